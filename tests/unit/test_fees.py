from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.domain.fees import GWEI, Fees, bumped, capped, is_stuck, replacement, suggest


def test_suggest_uses_twice_the_base_fee_plus_the_median_tip() -> None:
    f = suggest(10 * GWEI, [1 * GWEI, 3 * GWEI, 2 * GWEI])
    assert (f.max_fee_per_gas, f.max_priority_fee_per_gas) == (22 * GWEI, 2 * GWEI)


def test_suggest_applies_the_minimum_tip_when_blocks_paid_none() -> None:
    assert suggest(GWEI, [0, 0], min_tip=7).max_priority_fee_per_gas == 7


@given(st.integers(min_value=0, max_value=10**30))
def test_bump_is_at_least_one_eighth_more_and_rounds_up(prev: int) -> None:
    b = bumped(prev)
    assert 8 * b >= 9 * prev
    assert 8 * (b - 1) < 9 * prev


fee = st.integers(min_value=1, max_value=10**15)


@given(fee, fee, fee, fee)
def test_replacement_raises_both_fields_by_at_least_an_eighth(
    a: int, b: int, c: int, d: int
) -> None:
    prev = Fees(max(a, b), min(a, b))
    market = Fees(max(c, d), min(c, d))
    new = replacement(prev, market, ceiling=10**30)
    assert new is not None
    assert 8 * new.max_fee_per_gas >= 9 * prev.max_fee_per_gas
    assert 8 * new.max_priority_fee_per_gas >= 9 * prev.max_priority_fee_per_gas
    assert new.max_fee_per_gas >= market.max_fee_per_gas
    assert new.max_priority_fee_per_gas <= new.max_fee_per_gas


def test_replacement_over_the_ceiling_is_refused_and_at_it_allowed() -> None:
    prev = Fees(800, 80)
    assert replacement(prev, Fees(1, 1), ceiling=899) is None
    assert replacement(prev, Fees(1, 1), ceiling=900) == Fees(900, 90)


def test_capped_first_attempt_never_exceeds_the_ceiling() -> None:
    assert capped(Fees(1000, 50), 600) == Fees(600, 50)
    assert capped(Fees(1000, 900), 600) == Fees(600, 600)


def test_stuck_by_time_by_blocks_or_by_fee_under_the_base_fee() -> None:
    base = {"after_s": 30, "after_blocks": 3, "next_base_fee": 10}
    assert not is_stuck(age_s=1, blocks_since=0, max_fee_per_gas=20, **base)
    assert is_stuck(age_s=30, blocks_since=0, max_fee_per_gas=20, **base)
    assert is_stuck(age_s=1, blocks_since=3, max_fee_per_gas=20, **base)
    assert is_stuck(age_s=1, blocks_since=0, max_fee_per_gas=9, **base)
