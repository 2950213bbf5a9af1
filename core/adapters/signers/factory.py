"""Resolve a follower's signer reference: `keystore:PATH`, `env:VAR` or `kms:KEY_ID`.

Keys are resolved once per process and cached in memory (a keystore decrypt costs ~0.7 s
with default scrypt parameters). Errors name the reference, never the secret.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from eth_account import Account

from config.settings import get_settings, keystore_password, read_secret_env
from core.adapters.signers import REF_FORMS
from core.adapters.signers.kms import KmsSigner
from core.adapters.signers.local import LocalSigner
from core.domain.errors import SignerError
from core.ports import Signer

SCHEMES = tuple(REF_FORMS)
log = logging.getLogger(__name__)


_cache: dict[str, Signer] = {}
_kms_client: Any = None
_lock = threading.Lock()


def _from_keystore(path: str) -> LocalSigner:
    password = keystore_password()
    if password is None:
        raise SignerError(
            "keystore password not set: COPYTRADE_KEYSTORE_PASSWORD or _PASSWORD_FILE"
        )
    return from_keystore(path, password)


def from_keystore(path: str, password: str) -> LocalSigner:
    """The key of a keystore file, with its password given (a throwaway dev stack's)."""
    file = Path(path)
    if not file.is_file():
        raise SignerError(f"keystore:{path}: no such file")
    try:
        key = Account.decrypt(json.loads(file.read_text()), password)
    except ValueError:
        raise SignerError(f"keystore:{path}: wrong password or damaged file") from None
    return LocalSigner.from_key(key)


def _from_env(var: str) -> LocalSigner:
    value = read_secret_env(var)
    if not value:
        raise SignerError(f"env:{var}: variable not set")
    try:
        return LocalSigner.from_key(value.strip())
    except (ValueError, TypeError):
        raise SignerError(f"env:{var}: not a 32-byte hex private key") from None


def _from_kms(key_id: str) -> Signer:
    """A KMS key (ECC_SECG_P256K1); one boto3 client per process, bounded retries and
    timeouts (a throttled key retries as a TransientError, other followers go on)."""
    global _kms_client
    if _kms_client is None:
        import boto3  # start-up cost: boto3 (~0.15 s), only for kms: references
        from botocore.config import Config  # start-up cost: botocore (boto3's core)

        s = get_settings()
        _kms_client = boto3.client(
            "kms",
            region_name=s.kms_region,
            endpoint_url=s.kms_endpoint_url or None,
            config=Config(
                connect_timeout=s.kms_timeout_s,
                read_timeout=s.kms_timeout_s,
                retries={"max_attempts": s.kms_max_attempts, "mode": "standard"},
            ),
        )
    return KmsSigner(_kms_client, key_id)


def preload(refs: Iterable[str]) -> int:
    """Resolve the local signers (keystore:, env:) now. Called in the worker's main process
    before the pool forks: every child, and every child that replaces a recycled one,
    starts with the keys decrypted instead of paying a keystore decrypt (~0.7 s with
    scrypt) per key per child on its first order. KMS signers are left to each process (a
    boto3 client must not cross a fork). Returns how many are cached."""
    for ref in refs:
        if ref.partition(":")[0] in ("keystore", "env"):
            try:
                resolve(ref)
            except SignerError as exc:  # a broken reference fails its own orders later
                log.warning("not preloaded: %s", exc)
    return len(_cache)


def resolve(ref: str) -> Signer:
    """The signer for `ref`, from this process's cache when already resolved."""
    signer = _cache.get(ref)
    if signer is not None:
        return signer
    scheme, _, rest = ref.partition(":")
    if not rest or scheme not in SCHEMES:
        raise SignerError(
            f"unknown signer reference {ref!r}: use keystore:PATH, env:VAR or kms:KEY_ID"
        )
    with _lock:
        signer = _cache.get(ref)
        if signer is None:
            make = {"keystore": _from_keystore, "env": _from_env, "kms": _from_kms}[scheme]
            signer = make(rest)
            _cache[ref] = signer
    return signer
