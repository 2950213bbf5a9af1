"""A leader's fills into signals, and the proportional rule: a decrease of fraction f of the
leader's position decreases each follower's by f, rounded down, never past what is held."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest
from eth_utils import to_checksum_address
from hypothesis import assume, given
from hypothesis import strategies as st

from core.domain.errors import RejectedSignal
from core.domain.leader_fills import (
    FRACTION_ONE,
    FillSignal,
    LeaderFill,
    fraction_of,
    proportional,
    signal_of,
)
from core.domain.risk import PROFILES, LeaderOrder, Policy, decide
from core.domain.signals import parse_signal
from core.domain.sizing import SizingRule
from core.domain.types import USD, Action, Side

RAW = 10**24  # GMX's 30-decimal USD per micro-USD
LEADER = "0x" + "ab" * 20


def fill(
    increase: bool, delta_usd: int, after_usd: int, collateral_usd: int = 0, **kw
) -> LeaderFill:
    return LeaderFill(
        trader=LEADER,
        asset="ETH",
        is_long=True,
        increase=increase,
        size_delta_raw=delta_usd * USD * RAW,
        size_after_raw=after_usd * USD * RAW,
        size_delta_usd_1e6=delta_usd * USD,
        collateral_delta_usd_1e6=collateral_usd * USD,
        price_usd_1e6=3_000 * USD,
        **kw,
    )


def test_an_increase_from_nothing_is_an_open_and_onto_a_position_an_increase() -> None:
    assert signal_of(fill(True, 500, 500, 100)) == FillSignal(Action.OPEN, 100 * USD, 5)
    assert signal_of(fill(True, 250, 750, 50)) == FillSignal(Action.INCREASE, 50 * USD, 5)


def test_a_partial_decrease_is_the_fraction_of_the_size_before_and_to_zero_a_close() -> None:
    # sizeInUsd is the size after: 30 of (70 + 30) is 30%.
    assert signal_of(fill(False, 30, 70)) == FillSignal(
        Action.DECREASE, 0, 1, 3 * FRACTION_ONE // 10
    )
    assert signal_of(fill(False, 70, 0)) == FillSignal(Action.CLOSE, 0, 1)


def test_a_liquidation_and_an_adl_carry_their_cause() -> None:
    assert signal_of(fill(False, 100, 0, cause="liquidation")) == FillSignal(
        Action.CLOSE, 0, 1, None, "liquidation"
    )
    s = signal_of(fill(False, 25, 75, cause="adl"))
    assert isinstance(s, FillSignal)
    assert (s.action, s.fraction_1e18, s.cause) == (Action.DECREASE, FRACTION_ONE // 4, "adl")


def test_what_is_no_signal_says_why() -> None:
    assert signal_of(fill(True, 100, 600, 0)) == "increase without collateral: not mirrored"
    assert signal_of(fill(False, 0, 600)) == "no size change"


@given(
    held=st.integers(0, 10**40),
    delta=st.integers(1, 10**36),
    rest=st.integers(0, 10**36),
)
def test_proportional_never_exceeds_the_exact_share_nor_what_is_held(
    held: int, delta: int, rest: int
) -> None:
    f = fraction_of(delta, delta + rest)
    assume(f > 0)  # under 1e-18 of the position: no signal (signal_of says so)
    share = proportional(held, f)
    assert 0 <= share <= held
    assert share * (delta + rest) <= held * delta  # at most the exact share
    if rest == 0:
        assert share == held  # all of it: no dust


def test_the_worked_example_of_docs_risk() -> None:
    """Leader 1,000 -> close 30% -> add 500 -> close 50% -> close; a follower at 1/10."""
    held = 100 * USD
    held -= proportional(held, fraction_of(300, 1_000))
    assert held == 70 * USD
    held += 50 * USD  # the add, sized by the follower's rule (ratio 0.1 of 500)
    held -= proportional(held, fraction_of(600, 1_200))
    assert held == 60 * USD
    held -= proportional(held, fraction_of(600, 600))
    assert held == 0


def _policy() -> Policy:
    return Policy(10, 10**9 * USD, frozenset({"ETH"}), SizingRule("ratio", Decimal("0.1")))


def test_decide_decreases_what_the_follower_holds_by_the_fraction() -> None:
    order = LeaderOrder(Action.DECREASE, "ETH", Side.LONG, 0, 1, fraction_1e18=FRACTION_ONE // 4)
    d = decide(order, _policy(), PROFILES["standard"], exposure=80 * USD)
    assert (d.reason, d.notional_usd_1e6) == (None, 20 * USD)
    assert decide(order, _policy(), PROFILES["standard"], exposure=0).reason == "no_position"
    tiny = decide(order, _policy(), PROFILES["standard"], exposure=30_000)
    assert tiny.reason == "size_zero"  # a quarter of 3 cents is under the venue's step


def test_a_signal_carries_a_fraction_only_on_a_decrease_and_zero_collateral_then() -> None:
    base = {
        "signal_id": "s-1",
        "leader": LEADER,
        "action": "decrease",
        "asset": "ETH",
        "side": "long",
        "collateral_usd_1e6": 0,
        "leverage_x": 1,
    }
    spec = parse_signal({**base, "fraction_1e18": FRACTION_ONE // 2, "cause": "adl"})
    assert (spec.fraction_1e18, spec.cause) == (FRACTION_ONE // 2, "adl")
    with pytest.raises(RejectedSignal, match="decrease only"):
        parse_signal({**base, "action": "open", "fraction_1e18": 1})
    with pytest.raises(RejectedSignal, match="fraction_1e18 must be in"):
        parse_signal({**base, "fraction_1e18": FRACTION_ONE + 1})
    with pytest.raises(RejectedSignal):
        parse_signal(base)  # a decrease by collateral needs collateral
    with pytest.raises(RejectedSignal, match="cause"):
        parse_signal({**base, "fraction_1e18": 1, "cause": "whim"})


def test_a_signal_without_the_new_fields_hashes_as_before() -> None:
    body = {
        "signal_id": "s-2",
        "leader": LEADER,
        "action": "open",
        "asset": "ETH",
        "side": "long",
        "collateral_usd_1e6": 10 * USD,
        "leverage_x": 2,
    }
    spec = parse_signal(body)
    # schema 1's hash, as it was before fraction_1e18 and cause existed
    before = {**body, "leader": to_checksum_address(LEADER), "price_usd_1e6": None}
    canonical = json.dumps(before, sort_keys=True, separators=(",", ":"))
    assert spec.content_hash() == hashlib.sha256(canonical.encode()).hexdigest()
    with_fraction = parse_signal({**body, "action": "decrease", "fraction_1e18": 5})
    assert (
        with_fraction.content_hash()
        != parse_signal({**body, "action": "decrease", "fraction_1e18": 6}).content_hash()
    )
