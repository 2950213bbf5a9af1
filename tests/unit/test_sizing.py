"""Sizing properties (hypothesis): rounding down, never above any cap, deterministic."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.errors import RejectedSignal
from core.domain.risk import PROFILES, LeaderOrder, Policy, decide
from core.domain.sizing import (
    EQUITY,
    FIXED_NOTIONAL,
    FIXED_SIZE,
    KINDS,
    MAX_RATIO,
    RATIO,
    VENUE_STEP_USD_1E6,
    SizingRule,
    follower_collateral,
    parse_sizing,
    usd_text,
    usd_to_e6,
)
from core.domain.types import USD, Action, Side

collateral = st.integers(min_value=1, max_value=10**13)
leverage = st.integers(min_value=1, max_value=1000)
ratios = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(100), places=6)
notionals = st.integers(min_value=1, max_value=10**13)


@given(collateral, leverage, ratios)
def test_ratio_sizing_rounds_down_to_the_venue_step(c: int, lev: int, r: Decimal) -> None:
    got = follower_collateral(SizingRule("ratio", r), c, lev)
    assert got % VENUE_STEP_USD_1E6 == 0
    assert got <= c * r < got + VENUE_STEP_USD_1E6


@given(collateral, leverage, notionals)
def test_fixed_notional_never_exceeds_the_asked_notional(c: int, lev: int, n: int) -> None:
    got = follower_collateral(SizingRule("fixed-notional", Decimal(n)), c, lev)
    assert got % VENUE_STEP_USD_1E6 == 0
    assert got * lev <= n


@given(
    collateral,
    leverage,
    ratios,
    st.integers(min_value=0, max_value=10**14),
    st.integers(min_value=1, max_value=1000),
    st.integers(min_value=0, max_value=10**14),
)
def test_accepted_orders_never_exceed_any_cap(
    c: int, lev: int, r: Decimal, limit: int, max_lev: int, exposure: int
) -> None:
    order = LeaderOrder(Action.OPEN, "BTC", Side.LONG, c, lev)
    policy = Policy(max_lev, limit, frozenset({"BTC"}), SizingRule("ratio", r))
    for profile in PROFILES.values():
        d = decide(order, policy, profile, exposure)
        again = decide(order, policy, profile, exposure)
        assert d == again
        if d.accepted:
            assert exposure + d.notional_usd_1e6 <= limit
            assert d.leverage_x <= max_lev
            cap = profile.max_order_notional_usd_1e6
            assert cap is None or d.notional_usd_1e6 <= cap
            assert d.notional_usd_1e6 == d.collateral_usd_1e6 * d.leverage_x > 0


def test_parse_sizing_reads_both_kinds_and_refuses_junk() -> None:
    assert parse_sizing("fixed-notional:10.5") == SizingRule("fixed-notional", Decimal(10_500_000))
    assert parse_sizing("ratio:0.25") == SizingRule("ratio", Decimal("0.25"))
    for bad in ("ratio:0", "ratio:-1", "ratio:NaN", "ratio:inf", "fixed:10", "ratio:x", "ratio"):
        with pytest.raises(RejectedSignal):
            parse_sizing(bad)


def test_usd_amounts_parse_exactly_and_refuse_sub_micro_precision() -> None:
    assert usd_to_e6("100") == 100 * USD
    assert usd_to_e6("0.000001") == 1
    for bad in ("0.0000001", "-1", "nan", "Infinity", "1e999999999", "abc"):
        with pytest.raises(RejectedSignal):
            usd_to_e6(bad)


units = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(1000), places=6)
prices = st.integers(min_value=1, max_value=10**12)


@given(collateral, leverage, units, prices)
def test_fixed_size_is_units_times_price_rounded_down(c: int, lev: int, q: Decimal, p: int) -> None:
    got = follower_collateral(SizingRule("fixed-size", q), c, lev, p)
    assert got % VENUE_STEP_USD_1E6 == 0
    assert got * lev <= q * p  # never more than the asked size
    assert follower_collateral(SizingRule("fixed-size", q), c, lev, p) == got


@given(collateral, leverage, st.integers(1, 10**9), st.integers(1, 10**9))
def test_equity_sizing_mirrors_the_equity_ratio_rounded_down(
    c: int, lev: int, f: int, ld: int
) -> None:
    if f > ld * MAX_RATIO:
        with pytest.raises(RejectedSignal, match="at most 1000000"):
            parse_sizing(f"equity:{f}/{ld}")
        return
    rule = parse_sizing(f"equity:{f}/{ld}")
    got = follower_collateral(rule, c, lev)
    assert got % VENUE_STEP_USD_1E6 == 0
    assert got * ld <= c * f  # never more than the exact ratio


def test_every_sizing_kind_parses_back_from_its_text() -> None:
    for text in ("fixed-notional:10.5", "fixed-size:0.001", "ratio:0.25", "equity:0.05"):
        rule = parse_sizing(text)
        assert parse_sizing(str(rule)) == rule
    assert parse_sizing("equity:5000/100000") == SizingRule("equity", Decimal("0.05"))
    for bad in ("equity:1/0", "equity:x/2", "fixed-size:0", "fixed-size:-1", "ratio:1e-19"):
        with pytest.raises(RejectedSignal):
            parse_sizing(bad)


def test_venue_minimum_is_inclusive_and_under_it_is_rejected() -> None:
    policy = Policy(10, 10**15, frozenset({"BTC"}), parse_sizing("fixed-notional:1"))
    standard = PROFILES["standard"]
    at = decide(LeaderOrder(Action.OPEN, "BTC", Side.LONG, 10**6, 1), policy, standard, 0)
    assert (at.reason, at.notional_usd_1e6) == (None, 1_000_000)
    under = Policy(10, 10**15, frozenset({"BTC"}), parse_sizing("fixed-notional:0.99"))
    got = decide(LeaderOrder(Action.OPEN, "BTC", Side.LONG, 10**6, 1), under, standard, 0)
    assert got.reason == "below_venue_minimum: notional 0.99 < 1 USD"


@given(st.integers(1, 10**6), st.integers(1, 100), st.integers(0, 10**12))
def test_position_limit_is_inclusive_at_every_boundary(c_cents: int, lev: int, held: int) -> None:
    c = c_cents * VENUE_STEP_USD_1E6 + 10**6  # at least 1 USD of collateral
    order = LeaderOrder(Action.INCREASE, "BTC", Side.LONG, c, lev)
    limit = held + c * lev
    at = Policy(100, limit, frozenset({"BTC"}), parse_sizing("ratio:1"))
    over = Policy(100, limit - 1, frozenset({"BTC"}), parse_sizing("ratio:1"))
    assert decide(order, at, PROFILES["standard"], held).accepted
    assert decide(order, over, PROFILES["standard"], held).reason == "max_position"


# Each was a decimal.InvalidOperation / Overflow traceback at the CLI, or silently accepted.
BAD_SIZING = (
    "ratio:12345678901",  # a ratio past MAX_RATIO (31 digits at 18 places: InvalidOperation)
    "ratio:1e12",
    "equity:1e12/1",  # the ratio 1e12 (InvalidOperation)
    "equity:1/1e-999999999",  # decimal.Overflow
    "equity:1e-99999/1",  # a ratio that rounds to 0 (was accepted as equity:0)
    "equity:1e-18/1e12",  # rounds to 0 too
    "fixed-size:1234567890123.123456789012345678",  # 31 digits: InvalidOperation
    "fixed-size:1000000000000.000000000000000001",  # just past 1e12 units
    "ratio:1e999999999999999999999",  # an exponent Decimal cannot hold
    "ratio:1e-99999999999999999999999999",
    "ratio:1e13",
    "ratio:1e-19",
    "ratio:sNaN",
    "ratio:-0",
    "ratio:0E+5",
    "ratio:-Infinity",
    "ratio:",
    "ratio: ",
    "ratio:1/2",
    "equity:1/",
    "equity:/1",
    "equity:1/2/3",
    "equity:NaN/1",
    "equity:1/sNaN",
    "equity:0/1",
    "fixed-size:1e13",
    "fixed-notional:1e13",
    "fixed-notional:0",
    "fixed-notional:0.0000001",
    "fixed-notional:sNaN",
    "fixed-notional:123456789012.0000000000000000001",  # sub-micro: was rounded away
    "fixed-notional:1e-999999999999",  # was accepted as 0 USD
)


@pytest.mark.parametrize("text", BAD_SIZING)
def test_malformed_or_out_of_range_sizing_is_a_rejected_signal_never_a_decimal_error(
    text: str,
) -> None:
    with pytest.raises(RejectedSignal) as got:
        parse_sizing(text)
    assert got.value.reason in ("bad_sizing", "bad_amount", "out_of_range")
    assert "\n" not in str(got.value)


scaled = st.builds(lambda m, e: f"{m}e{e}", st.integers(-(10**32), 10**32), st.integers(-60, 30))
plain = st.builds(lambda i, f: f"{i}.{f}", st.integers(0, 10**15), st.integers(0, 10**25).map(str))
numbers = (
    scaled
    | plain
    | st.from_regex(r"\A[-+]?[0-9]{0,35}(\.[0-9]{0,35})?([eE][-+]?[0-9]{1,21})?\Z")
    | st.text(max_size=30)
)


@given(st.sampled_from(KINDS), numbers, st.none() | numbers)
def test_any_sizing_text_parses_to_a_plain_round_trip_or_is_a_rejected_signal(
    kind: str, top: str, bottom: str | None
) -> None:
    text = f"{kind}:{top}" + ("" if bottom is None else f"/{bottom}")
    try:
        rule = parse_sizing(text)
    except RejectedSignal:
        return
    assert rule.value.is_finite()
    assert rule.value > 0
    if kind in (RATIO, EQUITY):
        assert rule.value <= MAX_RATIO
    shown = str(rule)
    assert "E" not in shown.partition(":")[2].upper()
    assert parse_sizing(shown) == rule


@given(numbers)
def test_usd_amounts_parse_exactly_or_are_rejected(text: str) -> None:
    try:
        got = usd_to_e6(text)
    except RejectedSignal:
        return
    with localcontext() as ctx:
        ctx.prec = 100
        assert Decimal(got) == Decimal(text) * USD


def test_usd_text_is_a_plain_decimal_never_scientific_and_exact() -> None:
    assert usd_text(10**12) == "1000000"  # was 1E+6
    assert usd_text(100_500_000) == "100.5"
    assert usd_text(120 * USD) == "120"  # was 1.2E+2
    assert usd_text(1) == "0.000001"
    assert usd_text(0) == "0"
    assert usd_text(-2_500_000) == "-2.5"
    assert usd_text(10**40 + 1) == "1" + "0" * 34 + ".000001"  # past Decimal's 28 digits


def test_sizing_rules_print_plain_numbers() -> None:
    assert str(SizingRule(RATIO, Decimal(10))) == "ratio:10"  # was ratio:1E+1
    assert str(SizingRule(FIXED_NOTIONAL, Decimal(10**12))) == "fixed-notional:1000000"
    assert str(parse_sizing("equity:1000/10")) == "equity:100"
    assert str(SizingRule(FIXED_SIZE, Decimal("1E-18"))) == "fixed-size:0.000000000000000001"
    big = "fixed-size:123456789012.12345678901234567"  # 29 digits: more than Decimal's 28
    assert str(parse_sizing(big)) == big
