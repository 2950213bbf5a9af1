"""A leader's fill on a venue whose keepers execute orders (GMX v2), and the signal it is.

The leader's request is not a trade: the venue's execution event is (GMX:
`PositionIncrease` / `PositionDecrease`, which carry the position's size *after* the
event). Pure.

- An increase from nothing is an `open`, onto a position an `increase` (collateral and
  leverage from the event: the follower's rule sizes it).
- A decrease to nothing is a `close`; a partial one a `decrease` of the fraction
  `sizeDeltaUsd / (sizeInUsd + sizeDeltaUsd)` of that position (18 decimals, rounded down):
  each follower decreases its own matching position by the same fraction.
- A liquidation or an auto-deleveraging of the leader is copied as what it did to the
  position (a close or a decrease), with its cause on the signal.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.types import Action

FRACTION_ONE = 10**18  # a fraction of 1, in fraction_1e18
CAUSES = ("liquidation", "adl")


@dataclass(frozen=True)
class LeaderFill:
    """One execution of the leader's position, as the venue's event reports it. Sizes in
    the venue's own units (GMX: USD with 30 decimals), and in micro-USD for the signal."""

    trader: str
    asset: str
    is_long: bool
    increase: bool
    size_delta_raw: int
    size_after_raw: int  # the position's size after this execution
    size_delta_usd_1e6: int
    collateral_delta_usd_1e6: int
    price_usd_1e6: int
    cause: str | None = None  # "liquidation" | "adl" | None (the leader's own order)


@dataclass(frozen=True)
class FillSignal:
    action: Action
    collateral_usd_1e6: int
    leverage_x: int
    fraction_1e18: int | None = None  # a decrease: the fraction of the position it took
    cause: str | None = None


def fraction_of(delta: int, before: int) -> int:
    """`delta / before` in 18 decimals, rounded down (0 < result <= FRACTION_ONE)."""
    if before <= 0 or not 0 < delta <= before:
        raise ValueError(f"a decrease of {delta} from {before}")
    return delta * FRACTION_ONE // before


def signal_of(fill: LeaderFill) -> FillSignal | str:
    """The signal a fill is, or why it is none (recorded as the leader row's reason)."""
    if fill.size_delta_raw <= 0:
        return "no size change"
    if fill.increase:
        if fill.cause is not None:
            return f"an increase by {fill.cause}"
        if fill.collateral_delta_usd_1e6 <= 0:
            # Size added on the collateral already there: a follower's rule sizes by
            # collateral, so there is nothing to mirror it with (docs/risk.md).
            return "increase without collateral: not mirrored"
        before = fill.size_after_raw - fill.size_delta_raw
        lev = max(1, fill.size_delta_usd_1e6 // fill.collateral_delta_usd_1e6)
        action = Action.OPEN if before <= 0 else Action.INCREASE
        return FillSignal(action, fill.collateral_delta_usd_1e6, lev)
    if fill.size_after_raw == 0:
        return FillSignal(Action.CLOSE, 0, 1, None, fill.cause)
    before = fill.size_after_raw + fill.size_delta_raw
    fraction = fraction_of(fill.size_delta_raw, before)
    if fraction == 0:
        return "decrease under 1e-18 of the position"
    return FillSignal(Action.DECREASE, 0, 1, fraction, fill.cause)


def proportional(held: int, fraction_1e18: int) -> int:
    """A follower's share of a decrease: `held x fraction`, rounded down (never past what
    is held; 0 when the position is too small for the fraction)."""
    if not 0 < fraction_1e18 <= FRACTION_ONE:
        raise ValueError(f"fraction {fraction_1e18} outside (0, 1e18]")
    return max(0, held) * fraction_1e18 // FRACTION_ONE
