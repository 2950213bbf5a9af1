"""What a node answers, as plain records: send outcomes, receipts, blocks, logs, a signed
transaction, and the verdict of a nonce audit (who took a signer's nonce)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SendOutcome:
    """`kind`: ok | known, a refusal's class (core/adapters/node_errors.py: nonce_too_low,
    replacement_underpriced, fee_cap_below_base_fee, exceeds_block_gas_limit,
    intrinsic_gas_too_low, insufficient_funds, underpriced, rate_limited) decided from the
    chain first (core/adapters/send_check.py) | error, or unsent (the window's guard refused
    its chunk: not sent at all). `at`: what the guard
    returned right before its chunk went out (the database time), when there was one."""

    kind: str
    tx_hash: str | None = None
    message: str = ""
    at: datetime | None = None

    @property
    def accepted(self) -> bool:
        return self.kind in ("ok", "known")


def settle_refusal(kind: str, ours_on_node: bool, count: int | None, nonce: int) -> str:
    """A refused broadcast's class, decided from the chain (core/adapters/send_check.py):
    the node has our hash -> known; our nonce consumed at the pinned block (`count`, the
    signer's transaction count there) -> nonce_too_low; else the message's `kind`, except a
    "nonce too low" the chain contradicts, which is an error."""
    if ours_on_node:
        return "known"
    if count is not None and count > nonce:
        return "nonce_too_low"
    return "error" if kind == "nonce_too_low" else kind


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    block_number: int
    block_hash: str
    status: int


@dataclass(frozen=True)
class Tx:
    hash: str
    sender: str
    to: str | None
    input: bytes


@dataclass(frozen=True)
class Block:
    number: int
    hash: str
    parent_hash: str
    timestamp: int
    txs: list[Tx]


@dataclass(frozen=True)
class Log:
    address: str
    topics: list[str]
    data: bytes
    # Where it was found (eth_getLogs fills these; a receipt's logs need not).
    block_number: int = 0
    block_hash: str = ""
    tx_hash: str = ""
    log_index: int = 0  # its position in the block (eth_getLogs' logIndex)


UNUSED, OURS, OUTSIDE, UNKNOWN = "unused", "ours", "outside", "unknown"


@dataclass(frozen=True)
class NonceAudit:
    """`status`: unused (the count at the head is not past the nonce) | ours (one of our
    hashes took it) | outside (a transaction that is none of ours took it: `tx_hash`, in
    `block`) | unknown (consumed, but the transaction that took it was not found: the node
    has no state that far back, or the search window ended)."""

    status: str
    head: int
    head_hash: str
    tx_hash: str | None = None
    block: int | None = None
    block_hash: str | None = None

    @property
    def depth(self) -> int:
        """Blocks from the one that took the nonce to the head, both counted (1: the head)."""
        return 0 if self.block is None else self.head - self.block + 1


@dataclass(frozen=True)
class SignedTx:
    raw: bytes
    tx_hash: str


# Called right before each chunk of a broadcast goes out (and before each endpoint is
# tried): raises UnsafeToSend to stop the broadcast there; returns the chunk's send time.
Guard = Callable[[], datetime]
