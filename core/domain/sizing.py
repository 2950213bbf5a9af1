"""Sizing rules: how big a follower's order is. Pure integer / Decimal math.

Every result is rounded *down* to the venue's collateral step, so sizing never exceeds
what the rule asks for. Notional = collateral x leverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, DecimalException, InvalidOperation, localcontext

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
EQUITY_RATIO = "equity-ratio"
KINDS = (FIXED_NOTIONAL, FIXED_SIZE, RATIO, EQUITY, EQUITY_RATIO)
RATIO_PLACES = Decimal("1e-18")  # what policies.sizing_value keeps
# Every number in a policy is at most a trillion (USD, units of an asset); a ratio (or an
# equity ratio) at most a million: a follower a million times the leader's size.
MAX_NUMBER = Decimal(10**12)
MAX_RATIO = Decimal(1_000_000)


@dataclass(frozen=True)
class SizingRule:
    """`fixed-notional`: value is the order's notional in micro-USD.
    `fixed-size`: value is the order's size in units of the asset (notional = size x price).
    `ratio`: value is the fraction of the leader's collateral to mirror.
    `equity`: value is follower equity / leader equity; mirrored like a ratio.
    `equity-ratio`: both equities read from the venue when the order is sized; value is a
    multiplier of that ratio (1: the same share of equity as the leader)."""

    kind: str
    value: Decimal

    def __str__(self) -> str:
        if self.kind == FIXED_NOTIONAL:
            return f"{FIXED_NOTIONAL}:{usd_text(int(self.value))}"
        if self.kind == EQUITY_RATIO and self.value == 1:
            return EQUITY_RATIO
        return f"{self.kind}:{plain(self.value)}"


def parse_sizing(text: str) -> SizingRule:
    """Parse `fixed-notional:USD`, `fixed-size:UNITS`, `ratio:R`, `equity:F/L` (F and L
    the follower's and the leader's equity in USD; `equity:R` takes the ratio itself) or
    `equity-ratio[:M]` (the equities read live; M multiplies their ratio, 1 by default).
    Anything malformed or out of range is a RejectedSignal, never a decimal error."""
    kind, _, raw = text.partition(":")
    try:
        with localcontext() as ctx:
            # 13 integer digits at 18 places do not fit the default 28 digits (the bounds
            # below keep every step exact at 60; the except is the last line of defence)
            ctx.prec = 60
            return _parse_sizing(kind, raw, text)
    except DecimalException:
        raise RejectedSignal("bad_sizing", f"not a usable number: {text!r}") from None


def _parse_sizing(kind: str, raw: str, text: str) -> SizingRule:
    if kind == EQUITY_RATIO and not raw and text == EQUITY_RATIO:
        return SizingRule(EQUITY_RATIO, Decimal(1))
    if kind == EQUITY and "/" in raw:
        top, _, bottom = raw.partition("/")
        f, leader = _positive(top), _positive(bottom)
        return SizingRule(EQUITY, _ratio((f / leader).quantize(RATIO_PLACES, ROUND_DOWN), raw))
    number = _positive(raw)
    if kind == FIXED_NOTIONAL:
        return SizingRule(FIXED_NOTIONAL, Decimal(usd_to_e6(raw)))
    if kind in (RATIO, EQUITY, FIXED_SIZE, EQUITY_RATIO):
        if number != number.quantize(RATIO_PLACES, ROUND_DOWN):
            raise RejectedSignal("bad_sizing", f"at most 18 decimal places: {raw!r}")
        return SizingRule(kind, number if kind == FIXED_SIZE else _ratio(number, raw))
    raise RejectedSignal(
        "bad_sizing",
        "use fixed-notional:USD, fixed-size:UNITS, ratio:R, equity:F/L or equity-ratio[:M], "
        f"not {text!r}",
    )


def _positive(raw: str) -> Decimal:
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise RejectedSignal("bad_sizing", f"not a number: {raw!r}") from None
    if not number.is_finite() or number <= 0 or number > MAX_NUMBER:
        raise RejectedSignal("bad_sizing", f"must be a positive number up to 1e12: {raw!r}")
    if number.adjusted() < -18:
        raise RejectedSignal("bad_sizing", f"at most 18 decimal places: {raw!r}")
    return number


def _ratio(value: Decimal, raw: str) -> Decimal:
    if value == 0:
        raise RejectedSignal("bad_sizing", f"the ratio rounds to 0 at 18 decimal places: {raw!r}")
    if value > MAX_RATIO:
        raise RejectedSignal("bad_sizing", f"the ratio must be at most {MAX_RATIO}: {raw!r}")
    return value


def usd_to_e6(text: str | int | Decimal) -> UsdE6:
    """'100.5' -> 100_500_000. Refuses sub-micro precision, negatives, NaN, infinity and
    more than a trillion USD."""
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise RejectedSignal("bad_amount", f"not a number: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise RejectedSignal("bad_amount", f"must be a finite non-negative number: {text!r}")
    if value > MAX_NUMBER:
        raise RejectedSignal("out_of_range", f"over a trillion USD: {text!r}")
    # Read the digits themselves: value x 10**6 would round past 28 digits and let a
    # sub-micro part (or a tiny exponent's whole value) vanish.
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    below_micro = digits[max(0, len(digits) + exponent + 6) :] if exponent < -6 else ()
    if any(below_micro):
        raise RejectedSignal("bad_amount", f"more precise than 1e-6 USD: {text!r}")
    # exact now: at most 13 + 6 significant digits, the rest zeros
    return UsdE6(int(value * USD))


def usd_text(value_e6: int) -> str:
    """100_500_000 -> '100.5', 10**12 -> '1000000' (for people; plain digits, never an
    exponent; exact at any size)."""
    whole, micro = divmod(abs(value_e6), USD)
    sign = "-" if value_e6 < 0 else ""
    return sign + str(whole) + (f".{micro:06d}".rstrip("0") if micro else "")


def plain(value: Decimal) -> str:
    """A Decimal as plain digits without trailing zeros: 1E+1 -> '10', 0.250 -> '0.25'."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def round_down(value_e6: int, step: int = VENUE_STEP_USD_1E6) -> UsdE6:
    return UsdE6(value_e6 - value_e6 % step)


def follower_collateral(
    rule: SizingRule,
    leader_collateral_usd_1e6: int,
    leverage_x: int,
    price_usd_1e6: int | None = None,
    equities: tuple[int, int] | None = None,
) -> UsdE6:
    """The follower's collateral for an order at `leverage_x`, rounded down to the step.
    `fixed-size` needs the price (micro-USD per unit); `equity-ratio` the (follower,
    leader) equities in micro-USD, the leader's above 0."""
    if leverage_x <= 0:
        raise ValueError("leverage must be positive")
    if rule.kind == FIXED_NOTIONAL:
        raw = int(rule.value) // leverage_x
    elif rule.kind == FIXED_SIZE:
        if price_usd_1e6 is None or price_usd_1e6 <= 0:
            raise ValueError("fixed-size sizing needs the price")
        notional = (rule.value * price_usd_1e6).to_integral_value(ROUND_DOWN)
        raw = int(notional) // leverage_x
    elif rule.kind == EQUITY_RATIO:
        if equities is None or equities[1] <= 0:
            raise ValueError("equity-ratio sizing needs both equities")
        mine, theirs = equities
        # exact in integers: the multiplier has at most 18 places (RATIO_PLACES)
        m = int(rule.value.scaleb(18))
        raw = leader_collateral_usd_1e6 * mine * m // (theirs * 10**18)
    else:  # ratio, equity
        raw = int((Decimal(leader_collateral_usd_1e6) * rule.value).to_integral_value(ROUND_DOWN))
    return round_down(raw)
