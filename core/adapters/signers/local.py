"""An in-memory secp256k1 signer (coincurve; eth-account for shapes the fast path does not
cover). The key never leaves it: repr, str and exceptions show the address only."""

from __future__ import annotations

from typing import Any

from coincurve import PrivateKey
from eth_account import Account
from eth_account.signers.local import LocalAccount

from core.adapters.signers import eip1559
from core.domain.chain import SignedTx


class LocalSigner:
    __slots__ = ("_account", "_key", "address")

    def __init__(self, account: LocalAccount) -> None:
        self._account = account
        self._key = PrivateKey(bytes(account.key))
        self.address: str = account.address

    @classmethod
    def from_key(cls, key: str | bytes) -> LocalSigner:
        return cls(Account.from_key(key))

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTx:
        if eip1559.fits(tx):
            raw, tx_hash = eip1559.sign(self._key, tx)
            return SignedTx(raw, tx_hash)
        signed = self._account.sign_transaction(tx)
        return SignedTx(bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex())

    def __repr__(self) -> str:
        return f"LocalSigner({self.address})"

    __str__ = __repr__
