"""Pipeline.size on a rejection: the intent keeps the size sizing computed (collateral,
leverage, notional), so an operator sees by how much an order missed a limit; a rejection
decided before sizing (paused, circuit breaker) keeps none. The store writes what the
decision carries (core/adapters/postgres/signals.py size_pending)."""

from __future__ import annotations

from dataclasses import replace

from core.domain.risk import LeaderOrder, Policy
from core.domain.rows import FollowerRow, SignalRow, SizingInput
from core.domain.sizing import parse_sizing
from core.domain.states import SignalState
from core.domain.types import USD, Action, Side
from tests.service.fakes import SIGNERS, PipelineRig, make_pipeline

OPEN_100_X2 = LeaderOrder(Action.OPEN, "BTC", Side.LONG, 100 * USD, 2, 100_000 * USD)


def _policy(max_position_usd_1e6: int) -> Policy:
    return Policy(10, max_position_usd_1e6, frozenset({"BTC"}), parse_sizing("ratio:1"))


def _size(
    rig: PipelineRig,
    policy: Policy,
    order: LeaderOrder = OPEN_100_X2,
    held: list[tuple[Action, int]] | None = None,
    paused: bool = False,
) -> None:
    ref, address = SIGNERS["alice"]
    follower = FollowerRow(10, 1, 1, "0x" + "1e" * 20, address, ref, paused, False, True,
                           replace(policy, paused=paused))  # fmt: skip
    price = order.price_usd_1e6
    row = SignalRow(rig.pk, "sig-1", 1, order, price, SignalState.DISPATCHED, None, 1.0)
    rig.signals.signals[rig.pk] = row
    rig.signals.pending[rig.pk] = [SizingInput(1, follower, held or [])]
    rig.pipeline.size(rig.pk)


def test_an_order_over_the_max_position_is_rejected_keeping_the_notional_it_would_have_had() -> (
    None
):
    rig = make_pipeline(profile="standard")
    _size(rig, _policy(150 * USD))  # 100 USD x 2 = 200 USD > 150
    decision, price = rig.signals.sized[1]
    assert decision.reason == "max_position"
    assert (decision.collateral_usd_1e6, decision.leverage_x, decision.notional_usd_1e6) == (
        100 * USD,
        2,
        200 * USD,
    )
    assert price is None  # never priced: it is not an order


def test_over_the_limit_by_how_much_counts_what_the_follower_already_holds() -> None:
    rig = make_pipeline(profile="standard")
    _size(rig, _policy(1_000 * USD), held=[(Action.OPEN, 900 * USD)])
    decision, _ = rig.signals.sized[1]
    assert decision.reason == "max_position"
    assert 900 * USD + decision.notional_usd_1e6 - 1_000 * USD == 100 * USD


def test_a_paused_followers_rejection_keeps_no_size() -> None:
    rig = make_pipeline(profile="standard")
    _size(rig, _policy(10**6 * USD), paused=True)
    decision, price = rig.signals.sized[1]
    assert decision.reason == "paused"
    assert not decision.sized
    assert (decision.notional_usd_1e6, price) == (0, None)


def test_an_order_without_a_price_is_rejected_keeping_its_size() -> None:
    rig = make_pipeline(profile="standard")  # the fake venue prices nothing
    _size(rig, _policy(10**6 * USD), order=replace(OPEN_100_X2, price_usd_1e6=None))
    decision, price = rig.signals.sized[1]
    assert decision.reason == "no_price"
    assert (decision.sized, decision.notional_usd_1e6, price) == (True, 200 * USD, None)


def test_equity_ratio_on_a_venue_without_collateral_is_rejected_alone() -> None:
    rig = make_pipeline(profile="standard")
    rule = Policy(10, 10**12, frozenset({"BTC"}), parse_sizing("equity-ratio"))
    _size(rig, rule)
    decision, price = rig.signals.sized[1]
    assert decision.reason == (
        "no_equity: the venue holds no collateral to value (equity needs GMX)"
    )
    assert price is None
    assert not decision.sized


def test_an_operators_close_is_not_held_by_the_pause_or_the_breaker() -> None:
    rig = make_pipeline(profile="standard")
    close = LeaderOrder(Action.CLOSE, "BTC", Side.LONG, 0, 1, 100_000 * USD, forced=True)
    _size(rig, replace(_policy(10**12), circuit_breaker=True), close, paused=True)
    decision, price = rig.signals.sized[1]
    assert decision.accepted
    assert price is not None
    rig2 = make_pipeline(profile="standard")
    _size(rig2, _policy(10**12), replace(close, forced=False), paused=True)
    assert rig2.signals.sized[1][0].reason == "paused"


def test_an_equity_ratio_followers_close_needs_no_equity() -> None:
    rig = make_pipeline(profile="standard")
    close = LeaderOrder(Action.CLOSE, "BTC", Side.LONG, 0, 1, 100_000 * USD)
    rule = Policy(10, 10**12, frozenset({"BTC"}), parse_sizing("equity-ratio"))
    _size(rig, rule, close, held=[(Action.OPEN, 500 * USD)])
    decision, _ = rig.signals.sized[1]
    assert decision.accepted  # the venue has no equity to read: a close never asks
