"""A signer whose key never leaves AWS KMS (key spec ECC_SECG_P256K1).

The address comes from the key's public key; a transaction is signed by asking KMS to
sign its 32-byte signing hash (`MessageType=DIGEST`), then the DER (r, s) is made low-s
(EIP-2) and the recovery id is found by recovering the address. Errors name the key id,
never a secret; boto3 and botocore errors stop here (SignerError / TransientError).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coincurve import PublicKey
from eth_account._utils.signing import sign_transaction_dict
from eth_utils import keccak, to_checksum_address

from core.domain.chain import SignedTx
from core.domain.errors import SignerError, TransientError

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEY_SPEC = "ECC_SECG_P256K1"


def der_to_rs(der: bytes) -> tuple[int, int]:
    """(r, s) from an ASN.1 DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs)."""
    if len(der) < 8 or der[0] != 0x30:
        raise SignerError("KMS signature is not DER")
    pos, out = 2, []
    for _ in range(2):
        if der[pos] != 0x02:
            raise SignerError("KMS signature is not DER")
        size = der[pos + 1]
        out.append(int.from_bytes(der[pos + 2 : pos + 2 + size], "big"))
        pos += 2 + size
    return out[0], out[1]


def public_key_address(spki_der: bytes) -> str:
    """The Ethereum address of a SubjectPublicKeyInfo holding an uncompressed point."""
    point = spki_der[-65:]
    if point[0] != 0x04:
        raise SignerError("KMS public key is not an uncompressed secp256k1 point")
    return str(to_checksum_address(keccak(point[1:])[-20:]))


@dataclass(frozen=True)
class _Signature:
    vrs: tuple[int, int, int]


class KmsSigner:
    """`sign_transaction` like LocalSigner's; one KMS Sign call per transaction."""

    __slots__ = ("_client", "address", "key_id")

    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self.key_id = key_id
        try:
            meta = client.get_public_key(KeyId=key_id)
        except Exception as exc:  # noqa: BLE001 - botocore's tree stops here
            raise _translate(key_id, exc) from None
        spec = meta.get("KeySpec") or meta.get("CustomerMasterKeySpec")
        if spec != KEY_SPEC or meta.get("KeyUsage", "SIGN_VERIFY") != "SIGN_VERIFY":
            raise SignerError(f"kms:{key_id}: key spec {spec}, need {KEY_SPEC} for SIGN_VERIFY")
        self.address = public_key_address(bytes(meta["PublicKey"]))

    def sign_msg_hash(self, digest: bytes) -> _Signature:
        """The (v, r, s) of a 32-byte hash, low-s, v in {0, 1} (eth-account's key API)."""
        try:
            der = self._client.sign(
                KeyId=self.key_id,
                Message=digest,
                MessageType="DIGEST",
                SigningAlgorithm="ECDSA_SHA_256",
            )["Signature"]
        except Exception as exc:  # noqa: BLE001 - botocore's tree stops here
            raise _translate(self.key_id, exc) from None
        r, s = der_to_rs(bytes(der))
        if s > SECP256K1_N // 2:
            s = SECP256K1_N - s  # EIP-2: only low-s is valid
        for v in (0, 1):
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
            try:
                point = PublicKey.from_signature_and_message(sig, digest, hasher=None)
            except Exception:  # noqa: BLE001 - not this recovery id
                continue
            if (
                to_checksum_address(keccak(point.format(compressed=False)[1:])[-20:])
                == self.address
            ):
                return _Signature((v, r, s))
        raise SignerError(f"kms:{self.key_id}: signature does not recover to {self.address}")

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTx:
        _v, _r, _s, raw = sign_transaction_dict(self, tx)  # type: ignore[arg-type]
        return SignedTx(bytes(raw), "0x" + keccak(bytes(raw)).hex())

    def __repr__(self) -> str:
        return f"KmsSigner({self.key_id}, {self.address})"

    __str__ = __repr__


def _translate(key_id: str, exc: Exception) -> Exception:
    """botocore errors → ours: throttling and transport are transient, the rest final."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    if code in ("ThrottlingException", "KMSInternalException", "RequestLimitExceeded") or (
        type(exc).__name__ in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError")
    ):
        return TransientError(f"kms:{key_id}: {code or type(exc).__name__}")
    return SignerError(f"kms:{key_id}: {code or type(exc).__name__}")
