from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.domain.fees import GWEI, bumped, suggest


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
