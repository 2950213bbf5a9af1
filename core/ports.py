"""The ports services depend on. Adapters implement them; only bootstrap wires them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from core.domain.chain import SignedTx


class Dispatcher(Protocol):
    def dispatch(self, signal_pk: int, start: str = "validate", countdown: float = 0) -> bool:
        """Enqueue the signal's chain from `start`; False when the broker refused it
        (the signal row is committed, so the reconciler dispatches it later)."""
        ...


class Signer(Protocol):
    """A follower's or deployer's key: a keystore / env key in memory, or a KMS key."""

    address: str

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTx: ...
