"""Sizing rules: how big a follower's order is. Pure integer / Decimal math.

Every result is rounded *down* to the venue's collateral step, so sizing never exceeds
what the rule asks for. Notional = collateral x leverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from core.domain.errors import RejectedSignal
from core.domain.types import USD, UsdE6

# The venue accepts collateral in whole cents (micro-USD multiples of 10_000) and no order
# under 1 USD of notional (checked for open / increase: docs/risk.md).
VENUE_STEP_USD_1E6 = 10_000
VENUE_MIN_NOTIONAL_USD_1E6 = 1_000_000

FIXED_NOTIONAL = "fixed-notional"
FIXED_SIZE = "fixed-size"
RATIO = "ratio"
EQUITY = "equity"
KINDS = (FIXED_NOTIONAL, FIXED_SIZE, RATIO, EQUITY)
RATIO_PLACES = Decimal("1e-18")  # what policies.sizing_value keeps


@dataclass(frozen=True)
class SizingRule:
    """`fixed-notional`: value is the order's notional in micro-USD.
    `fixed-size`: value is the order's size in units of the asset (notional = size x price).
    `ratio`: value is the fraction of the leader's collateral to mirror.
    `equity`: value is follower equity / leader equity; mirrored like a ratio."""

    kind: str
    value: Decimal

    def __str__(self) -> str:
        if self.kind == FIXED_NOTIONAL:
            return f"{FIXED_NOTIONAL}:{usd_text(int(self.value))}"
        return f"{self.kind}:{self.value.normalize()}"


def parse_sizing(text: str) -> SizingRule:
    """Parse `fixed-notional:USD`, `fixed-size:UNITS`, `ratio:R` or `equity:F/L` (F and L
    the follower's and the leader's equity in USD; `equity:R` takes the ratio itself)."""
    kind, _, raw = text.partition(":")
    if kind == EQUITY and "/" in raw:
        top, _, bottom = raw.partition("/")
        f, leader = _positive(top), _positive(bottom)
        return SizingRule(EQUITY, (f / leader).quantize(RATIO_PLACES, ROUND_DOWN))
    number = _positive(raw)
    if kind == FIXED_NOTIONAL:
        return SizingRule(FIXED_NOTIONAL, Decimal(usd_to_e6(raw)))
    if kind in (RATIO, EQUITY, FIXED_SIZE):
        if number != number.quantize(RATIO_PLACES, ROUND_DOWN) or number == 0:
            raise RejectedSignal("bad_sizing", f"at most 18 decimal places: {raw!r}")
        return SizingRule(kind, number)
    raise RejectedSignal(
        "bad_sizing",
        f"use fixed-notional:USD, fixed-size:UNITS, ratio:R or equity:F/L, not {text!r}",
    )


def _positive(raw: str) -> Decimal:
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise RejectedSignal("bad_sizing", f"not a number: {raw!r}") from None
    if not number.is_finite() or number <= 0 or number.adjusted() > 12:
        raise RejectedSignal("bad_sizing", f"must be a positive number up to 1e12: {raw!r}")
    return number


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


def follower_collateral(
    rule: SizingRule,
    leader_collateral_usd_1e6: int,
    leverage_x: int,
    price_usd_1e6: int | None = None,
) -> UsdE6:
    """The follower's collateral for an order at `leverage_x`, rounded down to the step.
    `fixed-size` needs the price (micro-USD per unit)."""
    if leverage_x <= 0:
        raise ValueError("leverage must be positive")
    if rule.kind == FIXED_NOTIONAL:
        raw = int(rule.value) // leverage_x
    elif rule.kind == FIXED_SIZE:
        if price_usd_1e6 is None or price_usd_1e6 <= 0:
            raise ValueError("fixed-size sizing needs the price")
        notional = (rule.value * price_usd_1e6).to_integral_value(ROUND_DOWN)
        raw = int(notional) // leverage_x
    else:  # ratio, equity
        raw = int((Decimal(leader_collateral_usd_1e6) * rule.value).to_integral_value(ROUND_DOWN))
    return round_down(raw)
