"""The venue's port: the calldata an order is, what the venue's replies and events mean
(one-phase or two-phase), and whose fills a leader watcher follows. Re-exported by
core.ports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.domain.chain import Log
from core.domain.equity import Holding
from core.domain.leader_fills import LeaderFill
from core.domain.subaccounts import SubaccountTerms
from core.domain.venue import (
    Call,
    LogFilter,
    OrderCall,
    OrderEvent,
    Position,
    VenueOutcome,
    VenueTerms,
)


class Venue(Protocol):
    """The venue's calldata and what its replies and events mean. One-phase (the recorder
    router, `two_phase` False: the mined order is the fill) or two-phase (GMX v2: the
    mined transaction requests an order that a keeper executes or cancels later)."""

    two_phase: bool
    order_selector: bytes  # the 4-byte selector of an order call (GMX: multicall)
    closes_by_size: bool  # a close must carry the position's size (`OrderCall.close_size`)
    sides_apart: bool  # a long and a short of one asset are two positions (GMX); else one

    def encode_order(self, o: OrderCall) -> bytes: ...
    def order_value(self, calldata: bytes) -> int:
        """The wei an order's transaction carries (GMX: the execution fee its calldata
        sends to the order vault); 0 on a venue that takes no native fee."""
        ...

    def order_to(self, calldata: bytes) -> str:
        """The contract an order's calldata goes to (GMX: the ExchangeRouter, or the
        SubaccountRouter for a subaccount's). Derived from the calldata, so every attempt
        of an order (replacements, re-signs) goes where the first went."""
        ...

    def decode_order(self, data: bytes) -> OrderCall | None: ...
    def describe_revert(self, data: bytes) -> str | None:
        """A revert's data as the venue's own error (GMX: `Name(arg=…)` from its
        CustomErrors ABI); None: not one of the venue's."""
        ...

    def price_call(self, asset: str) -> Call | None:
        """The on-chain read of the venue's price of `asset`; None: the venue has none
        (GMX: the price comes from the signal or a price source)."""
        ...

    def decode_price(self, result: bytes) -> int: ...
    def terms_calls(self) -> list[Call]:
        """The reads of what the venue asks of an order (minimums, the keeper's gas);
        [] on a venue whose terms are fixed."""
        ...

    def decode_terms(self, results: Sequence[bytes]) -> VenueTerms: ...
    def collateral_calls(self, account: str) -> list[Call]:
        """The reads of the collateral `account` can put into an order (GMX: its USDC
        balance and its allowance to the Router); [] on a venue that takes none."""
        ...

    def decode_collateral(self, results: Sequence[bytes]) -> tuple[int, int]:
        """(balance, allowance) in micro-USD of the collateral token."""
        ...

    def approve_call(self, amount_usd_1e6: int) -> Call | None:
        """The follower's approval of the venue for `amount_usd_1e6` of collateral (GMX:
        USDC.approve(Router, amount)); None on a venue that takes none."""
        ...

    def position_call(self, trader: str, asset: str) -> Call: ...
    def decode_position(self, asset: str, result: bytes, is_long: bool | None = None) -> Position:
        """The account's position in `asset` (on `is_long`'s side when given: GMX keeps a
        long and a short apart; None: the larger)."""
        ...

    def holdings_call(self, account: str) -> Call | None:
        """The one read of every position `account` holds on the venue, any market (GMX:
        the Reader's getAccountPositions); None: the venue cannot list them (the recorder)."""
        ...

    def decode_holdings(self, result: bytes) -> list[Holding]:
        """Each open position of a configured asset (a market we do not know: ConfigError,
        since its value cannot be counted)."""
        ...

    def decode_order_event(self, topics: list[str], data: bytes) -> OrderEvent | None: ...
    def leader_filters(self, leaders: Sequence[str]) -> list[LogFilter]:
        """eth_getLogs filters of these leaders' executions (GMX: PositionIncrease /
        PositionDecrease, OrderExecuted); [] on a venue whose leaders are followed by their
        own transactions (one-phase: the mined order is the trade)."""
        ...

    def decode_leader_fills(self, logs: Sequence[Log]) -> list[tuple[str, LeaderFill | str]]:
        """Every execution in one transaction's receipt logs, any account's, in order:
        (the account, its fill or why it is none)."""
        ...

    def orders_filter(self) -> LogFilter:
        """Every order (request) placed at the venue, by anyone (verify)."""
        ...

    def order_placed(self, log: Log) -> tuple[str, str] | None:
        """(trader, client order id as 0x hex) of an order log, or None (verify)."""
        ...

    # -- two-phase only (a one-phase venue answers None / [] ) ---------------------------
    def request_key(self, logs: Sequence[Log]) -> str | None:
        """The order key our request created, from the request's receipt logs."""
        ...

    def outcome_filters(self, accounts: Sequence[str], keys: Sequence[str]) -> list[LogFilter]:
        """eth_getLogs filters that find every outcome of these accounts' requests."""
        ...

    def decode_outcome(self, log: Log) -> VenueOutcome | None: ...
    def cancel_request(self, key: str, by_subaccount: bool = False) -> bytes:
        """Calldata of the venue's own cancel of a request no keeper handled (sent by the
        account's subaccount when `by_subaccount`)."""
        ...

    def subaccount_calls(self, account: str, subaccount: str) -> list[Call]:
        """The reads of a subaccount's standing for `account` (GMX: its DataStore keys);
        []: the venue has no subaccounts."""
        ...

    def decode_subaccount(self, results: Sequence[bytes]) -> SubaccountTerms: ...
    def subaccount_setup_calls(
        self, subaccount: str, max_actions: int, expires_at: int
    ) -> list[Call]:
        """The wallet's one-time calls that let `subaccount` act for it (GMX: add it, its
        action budget, its expiry); ConfigError on a venue without subaccounts."""
        ...

    def cancel_after_call(self) -> Call | None:
        """The read of how long (seconds of block time) a request must wait before its
        trader may cancel it (GMX: the DataStore's REQUEST_EXPIRATION_TIME); None: the
        venue has no such cancel (one-phase)."""
        ...

    def decode_cancel_after(self, result: bytes) -> int: ...


class OrderRoute(Protocol):
    """Where an order's calldata goes and the wei it carries: what a replacement or a
    re-sign needs to send what the first attempt sent (the `Venue`'s own two methods)."""

    def order_to(self, calldata: bytes) -> str: ...
    def order_value(self, calldata: bytes) -> int: ...


class PriceSource(Protocol):
    """A reference price where the venue has no on-chain one (GMX: its oracle keeper's
    tickers in production, a fixture on a local stack)."""

    def price_usd_1e6(self, asset: str) -> int | None: ...
