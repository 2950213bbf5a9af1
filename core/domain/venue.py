"""A venue order and what the venue reports back, as plain records (the ABI that encodes
and decodes them lives in core/adapters/venue.py and core/adapters/gmx/).

Two kinds of venue sit behind the one `Venue` port (core/ports.py):
- one-phase (`simple`, contracts/PerpRouter.sol): the mined transaction is the fill;
- two-phase (GMX v2): the transaction only requests an order; a keeper later executes it
  at the oracle price or cancels it. The request's key comes from its receipt's logs, the
  outcome from the venue's events (`VenueOutcome`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.domain.types import Action


@dataclass(frozen=True)
class OrderCall:
    action: Action
    asset: str
    is_long: bool
    collateral_usd_1e6: int
    leverage_x: int
    acceptable_price_usd_1e6: int
    client_order_id: bytes  # 32 bytes: the intent's idempotency key
    account: str = ""  # whose order (the follower's address; on a request venue, the receiver)
    # A close on a venue that decreases by size (GMX): the whole position's size in the
    # venue's own units, read from the venue before signing; a decrease in proportion: that
    # share of it (and `collateral_usd_1e6` that share of the position's). None elsewhere.
    close_size: int | None = None
    # The native fee the request carries for the venue's keeper (GMX: sendWnt to the
    # order vault, sized by `VenueTerms.execution_fee`); 0 on a venue without one.
    execution_fee_wei: int = 0
    # The signer is the account's subaccount (GMX: the order goes through the
    # SubaccountRouter for `account`; the collateral is pulled from the account).
    by_subaccount: bool = False


@dataclass(frozen=True)
class VenueTerms:
    """What the venue asks of an order, read from the venue (GMX: its DataStore keys):
    the smallest position and collateral it keeps, and the gas its keeper is paid for
    (the adjusted estimate the execution fee must cover at the request's gas price)."""

    min_order_usd_1e6: int = 0  # every order that adds exposure
    min_position_usd_1e6: int = 0  # the position an order leaves
    min_collateral_usd_1e6: int = 0  # a new position's collateral
    increase_fee_gas: int = 0
    decrease_fee_gas: int = 0

    def execution_fee(self, adds_exposure: bool, gas_price_wei: int) -> int:
        """The fee the venue accepts from a request paying up to `gas_price_wei` a gas."""
        gas = self.increase_fee_gas if adds_exposure else self.decrease_fee_gas
        return gas * gas_price_wei


@dataclass(frozen=True)
class Call:
    """A read-only call: where and what (the venue's reader may not be its router)."""

    to: str
    data: bytes


@dataclass(frozen=True)
class Position:
    is_long: bool
    size_usd_1e6: int
    collateral_usd_1e6: int
    size_raw: int = 0  # the size in the venue's own units (what a full close decreases)


@dataclass(frozen=True)
class OrderEvent:
    """An `Order` event: what the venue did (a close carries the position's side and size)."""

    trader: str
    asset: str
    client_order_id: str
    action: Action
    is_long: bool
    collateral_usd_1e6: int
    leverage_x: int
    size_usd_1e6: int
    price_usd_1e6: int


class OutcomeKind(StrEnum):
    EXECUTED = "executed"
    CANCELLED = "cancelled"
    FROZEN = "frozen"


@dataclass(frozen=True)
class LogFilter:
    """An eth_getLogs filter without its block range (the watcher adds that)."""

    address: str
    topics: list[str | list[str] | None]


@dataclass(frozen=True)
class VenueOutcome:
    """What a two-phase venue did with a request: found in a log of a canonical block."""

    order_key: str  # 0x-prefixed 32-byte hex, lower case
    kind: OutcomeKind
    block_number: int
    block_hash: str
    tx_hash: str
    price_usd_1e6: int = 0  # executed: the execution price (micro-USD per index token)
    size_delta_usd_1e6: int = 0  # executed: the size the fill added or removed
    reason: str = ""  # cancelled / frozen: the venue's reason
