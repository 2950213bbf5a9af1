"""Sizing properties (hypothesis): rounding down, never above any cap, deterministic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.errors import RejectedSignal
from core.domain.risk import PROFILES, LeaderOrder, Policy, decide
from core.domain.sizing import (
    VENUE_STEP_USD_1E6,
    SizingRule,
    follower_collateral,
    parse_sizing,
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
