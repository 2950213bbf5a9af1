"""Sizing rules: how big a follower's order is. Pure integer / Decimal math.

Every result is rounded *down* to the venue's collateral step, so sizing never exceeds
what the rule asks for. Notional = collateral x leverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from core.domain.errors import RejectedSignal
from core.domain.types import USD, UsdE6

# The venue accepts collateral in whole cents (micro-USD multiples of 10_000).
VENUE_STEP_USD_1E6 = 10_000

FIXED_NOTIONAL = "fixed-notional"
RATIO = "ratio"


@dataclass(frozen=True)
class SizingRule:
    """`fixed-notional`: value is the order's notional in micro-USD.
    `ratio`: value is the fraction of the leader's collateral to mirror."""

    kind: str
    value: Decimal

    def __str__(self) -> str:
        if self.kind == FIXED_NOTIONAL:
            return f"{FIXED_NOTIONAL}:{usd_text(int(self.value))}"
        return f"{RATIO}:{self.value.normalize()}"


def parse_sizing(text: str) -> SizingRule:
    """Parse `fixed-notional:USD` or `ratio:R` (R a decimal > 0)."""
    kind, _, raw = text.partition(":")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise RejectedSignal("bad_sizing", f"not a number: {raw!r}") from None
    if not number.is_finite() or number <= 0:
        raise RejectedSignal("bad_sizing", f"must be a positive number: {raw!r}")
    if kind == FIXED_NOTIONAL:
        return SizingRule(FIXED_NOTIONAL, Decimal(usd_to_e6(raw)))
    if kind == RATIO:
        return SizingRule(RATIO, number)
    raise RejectedSignal("bad_sizing", f"use fixed-notional:USD or ratio:R, not {text!r}")


def usd_to_e6(text: str | int | Decimal) -> UsdE6:
    """'100.5' -> 100_500_000. Refuses sub-micro precision, negatives, NaN and infinity."""
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise RejectedSignal("bad_amount", f"not a number: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise RejectedSignal("bad_amount", f"must be a finite non-negative number: {text!r}")
    if value.adjusted() > 12:
        raise RejectedSignal("out_of_range", f"over a trillion USD: {text!r}")
    scaled = value * USD
    if scaled != scaled.to_integral_value():
        raise RejectedSignal("bad_amount", f"more precise than 1e-6 USD: {text!r}")
    return UsdE6(int(scaled))


def usd_text(value_e6: int) -> str:
    """100_500_000 -> '100.5' (for people; never parsed back into money)."""
    return str((Decimal(value_e6) / USD).normalize().to_eng_string())


def round_down(value_e6: int, step: int = VENUE_STEP_USD_1E6) -> UsdE6:
    return UsdE6(value_e6 - value_e6 % step)


def follower_collateral(rule: SizingRule, leader_collateral_usd_1e6: int, leverage_x: int) -> UsdE6:
    """The follower's collateral for an order at `leverage_x`, rounded down to the step."""
    if leverage_x <= 0:
        raise ValueError("leverage must be positive")
    if rule.kind == FIXED_NOTIONAL:
        raw = int(rule.value) // leverage_x
    else:
        raw = int((Decimal(leader_collateral_usd_1e6) * rule.value).to_integral_value(ROUND_DOWN))
    return round_down(raw)
