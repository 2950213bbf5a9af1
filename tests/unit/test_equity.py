"""Equity and the loss guard's arithmetic (core/domain/equity.py), and equity-ratio sizing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.equity import GuardLimits, Holding, Marks, Unpriced, advance, breach, equity
from core.domain.errors import RejectedSignal
from core.domain.sizing import EQUITY_RATIO, follower_collateral, parse_sizing
from core.domain.types import USD

ETH = 3_000 * USD


def eth(is_long: bool, size_usd: int, tokens_1e18: int, collateral_usd: int) -> Holding:
    return Holding("ETH", is_long, size_usd * USD, tokens_1e18, 18, collateral_usd * USD)


def test_a_long_gains_as_the_price_rises_and_a_short_as_it_falls() -> None:
    long = eth(True, 900, 3 * 10**17, 300)  # 0.3 ETH bought at 3000
    short = eth(False, 900, 3 * 10**17, 300)
    assert long.pnl_usd_1e6(ETH) == 0
    assert short.pnl_usd_1e6(ETH) == 0
    assert long.pnl_usd_1e6(3_600 * USD) == 180 * USD
    assert short.pnl_usd_1e6(3_600 * USD) == -180 * USD
    assert long.value_usd_1e6(2_400 * USD) == 120 * USD  # 300 - 180
    assert long.value_usd_1e6(1_000 * USD) == 0  # never worth less than nothing


@given(st.integers(1, 10**24), st.integers(1, 10**12), st.booleans())
def test_rounding_never_shows_a_profit_that_is_not_there(
    tokens: int, price: int, is_long: bool
) -> None:
    h = Holding("ETH", is_long, 0, tokens, 18, 0)
    exact = Decimal(tokens) * price / 10**18
    pnl = h.pnl_usd_1e6(price)
    assert (pnl <= exact) if is_long else (pnl <= -exact)


def test_equity_is_the_balance_plus_every_position_at_the_venues_price() -> None:
    e = equity(7, 1_000 * USD, [eth(True, 900, 3 * 10**17, 300)], {"ETH": 2_400 * USD}.get)
    assert (e.block, e.balance_usd_1e6, e.total_usd_1e6) == (7, 1_000 * USD, 1_120 * USD)
    with pytest.raises(Unpriced, match="no price for ETH"):
        equity(7, 0, [eth(True, 900, 3 * 10**17, 300)], {}.get)


def test_the_marks_keep_the_high_water_mark_and_start_each_day_afresh() -> None:
    d1, d2 = date(2026, 12, 6), date(2026, 12, 7)
    m = advance(None, 100, 1, d1)
    m = advance(m, 120, 2, d1)
    m = advance(m, 90, 3, d1)
    assert (m.high_water_usd_1e6, m.day_start_usd_1e6, m.last_usd_1e6) == (120, 100, 90)
    m = advance(m, 80, 4, d2)
    assert (m.high_water_usd_1e6, m.day, m.day_start_usd_1e6) == (120, d2, 80)


def marks(high: int, start: int, now: int) -> Marks:
    return Marks(high * USD, date(2026, 12, 6), start * USD, now * USD, 1)


def test_a_drawdown_past_the_limit_trips_and_one_at_the_limit_passes() -> None:
    limits = GuardLimits(max_drawdown_bps=1_000)  # 10 %
    assert breach(marks(100_000, 100_000, 90_000), limits) is None
    why = breach(marks(100_000, 100_000, 85_000), limits)
    assert why == (
        "max_drawdown: equity 85000 is 15000 USD (1500 bps) under its high of 100000; "
        "the limit is 1000 bps"
    )


def test_a_days_loss_past_the_limit_trips() -> None:
    limits = GuardLimits(max_daily_loss_usd_1e6=500 * USD)
    assert breach(marks(10_000, 9_000, 8_500), limits) is None
    why = breach(marks(10_000, 9_000, 8_499), limits)
    assert why is not None
    assert why.startswith("max_daily_loss: equity 8499 is 501 USD")
    assert not GuardLimits().any
    assert limits.any


def test_equity_ratio_parses_with_and_without_a_multiplier() -> None:
    assert parse_sizing("equity-ratio").value == 1
    assert str(parse_sizing("equity-ratio")) == EQUITY_RATIO
    assert str(parse_sizing("equity-ratio:0.5")) == "equity-ratio:0.5"
    for bad in ("equity-ratio:", "equity-ratio:0", "equity-ratio:-1", "equity-ratio:x"):
        with pytest.raises(RejectedSignal):
            parse_sizing(bad)


def test_equity_ratio_sizes_the_leaders_collateral_by_the_equities_rounded_down() -> None:
    rule = parse_sizing("equity-ratio")
    assert (
        follower_collateral(rule, 60 * USD, 3, equities=(100_000 * USD, 20_000 * USD)) == 300 * USD
    )
    # 100 x 1 / 3 = 33.333… -> 33.33 (the venue's cent)
    assert follower_collateral(rule, 100 * USD, 1, equities=(1, 3)) == 33_330_000
    with pytest.raises(ValueError, match="equity-ratio sizing needs both equities"):
        follower_collateral(rule, 60 * USD, 3)
    with pytest.raises(ValueError, match="equity-ratio sizing needs both equities"):
        follower_collateral(rule, 60 * USD, 3, equities=(1, 0))
