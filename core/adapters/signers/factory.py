"""Resolve a follower's signer reference: `keystore:PATH` or `env:VAR` (`kms:` comes later).

Keys are resolved once per process and cached in memory (a keystore decrypt costs ~0.7 s
with default scrypt parameters). Errors name the reference, never the secret.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from config.settings import keystore_password, read_secret_env
from core.adapters.signers.local import LocalSigner
from core.domain.errors import SignerError

SCHEMES = ("keystore", "env")

_cache: dict[str, LocalSigner] = {}
_lock = threading.Lock()


def _from_keystore(path: str) -> LocalSigner:
    from eth_account import Account

    file = Path(path)
    if not file.is_file():
        raise SignerError(f"keystore:{path}: no such file")
    password = keystore_password()
    if password is None:
        raise SignerError(
            "keystore password not set: COPYTRADE_KEYSTORE_PASSWORD or _PASSWORD_FILE"
        )
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


def resolve(ref: str) -> LocalSigner:
    """The signer for `ref`, from this process's cache when already resolved."""
    signer = _cache.get(ref)
    if signer is not None:
        return signer
    scheme, _, rest = ref.partition(":")
    if not rest or scheme not in SCHEMES:
        raise SignerError(f"unknown signer reference {ref!r}: use keystore:PATH or env:VAR")
    with _lock:
        signer = _cache.get(ref)
        if signer is None:
            signer = _from_keystore(rest) if scheme == "keystore" else _from_env(rest)
            _cache[ref] = signer
    return signer
