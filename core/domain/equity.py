"""A trader's equity on the venue and the loss guard. Pure integer math, micro-USD.

Equity is the collateral token the account holds plus every open position's value: its
collateral plus its profit or loss at the venue's price (a long gains as the price rises,
a short as it falls; a position is never worth less than nothing). The loss guard
compares a follower's equity with two marks: the highest it has been (the high-water
mark: a drawdown limit in basis points of it) and the first reading of the day, UTC (a
daily loss limit in USD).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from core.domain.sizing import usd_text as usd

BPS = 10_000


@dataclass(frozen=True)
class Holding:
    """One open position as the venue keeps it: its size in USD (at entry) and in index
    tokens (`token_decimals` places), its collateral in micro-USD."""

    asset: str
    is_long: bool
    size_usd_1e6: int
    size_in_tokens: int
    token_decimals: int
    collateral_usd_1e6: int
    size_raw: int = 0  # the venue's own size units (what a full close carries)

    def pnl_usd_1e6(self, price_usd_1e6: int) -> int:
        """Profit (+) or loss (-) at `price_usd_1e6` per whole token, rounded toward a
        loss (never a micro-USD of profit that is not there)."""
        worth: int = self.size_in_tokens * price_usd_1e6
        scale: int = 10**self.token_decimals
        if self.is_long:
            return worth // scale - self.size_usd_1e6
        return self.size_usd_1e6 - -(-worth // scale)

    def value_usd_1e6(self, price_usd_1e6: int) -> int:
        return max(0, self.collateral_usd_1e6 + self.pnl_usd_1e6(price_usd_1e6))


@dataclass(frozen=True)
class Equity:
    """What an account is worth on the venue at `block`."""

    block: int
    balance_usd_1e6: int
    positions_usd_1e6: int

    @property
    def total_usd_1e6(self) -> int:
        return self.balance_usd_1e6 + self.positions_usd_1e6


class Unpriced(Exception):
    """A held asset has no price: the account's equity cannot be known now."""


def equity(
    block: int,
    balance_usd_1e6: int,
    holdings: Sequence[Holding],
    price: Callable[[str], int | None],
) -> Equity:
    """The account's equity; Unpriced when a held asset has no price."""
    worth = 0
    for h in holdings:
        p = price(h.asset)
        if not p:
            raise Unpriced(f"no price for {h.asset}")
        worth += h.value_usd_1e6(p)
    return Equity(block, balance_usd_1e6, worth)


@dataclass(frozen=True)
class Marks:
    """The loss guard's marks for one follower."""

    high_water_usd_1e6: int
    day: date
    day_start_usd_1e6: int
    last_usd_1e6: int
    last_block: int


@dataclass(frozen=True)
class GuardLimits:
    max_drawdown_bps: int | None = None
    max_daily_loss_usd_1e6: int | None = None

    @property
    def any(self) -> bool:
        return self.max_drawdown_bps is not None or self.max_daily_loss_usd_1e6 is not None


def advance(marks: Marks | None, now: int, block: int, today: date) -> Marks:
    """The marks after a reading of `now` at `block` on `today` (UTC): the high-water mark
    only rises; a new day starts from its first reading."""
    if marks is None:
        return Marks(now, today, now, now, block)
    start = marks.day_start_usd_1e6 if marks.day == today else now
    return Marks(max(marks.high_water_usd_1e6, now), today, start, now, block)


def breach(marks: Marks, limits: GuardLimits) -> str | None:
    """`max_drawdown: …` or `max_daily_loss: …` with the figures when the last reading
    crosses a limit (a limit reached exactly passes, like every limit); None otherwise."""
    now = marks.last_usd_1e6
    if limits.max_drawdown_bps is not None and marks.high_water_usd_1e6 > 0:
        down = marks.high_water_usd_1e6 - now
        if down * BPS > limits.max_drawdown_bps * marks.high_water_usd_1e6:
            return (
                f"max_drawdown: equity {usd(now)} is {usd(down)} USD "
                f"({bps_text(down, marks.high_water_usd_1e6)}) under its high of "
                f"{usd(marks.high_water_usd_1e6)}; the limit is {limits.max_drawdown_bps} bps"
            )
    if limits.max_daily_loss_usd_1e6 is not None:
        lost = marks.day_start_usd_1e6 - now
        if lost > limits.max_daily_loss_usd_1e6:
            return (
                f"max_daily_loss: equity {usd(now)} is {usd(lost)} USD under the day's start "
                f"of {usd(marks.day_start_usd_1e6)}; the limit is "
                f"{usd(limits.max_daily_loss_usd_1e6)} USD"
            )
    return None


def bps_text(part: int, whole: int) -> str:
    """part / whole in basis points, rounded down: '2500 bps'."""
    return f"{part * BPS // whole} bps"
