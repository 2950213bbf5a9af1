"""The venue's terms in the pipeline (decision 0022): each request carries the execution fee
the venue accepts at the fee ceiling (so every attempt of it, a replacement too, passes the
venue's check), read from the venue and kept for a TTL; an order under the venue's
minimums is rejected with the figure at sizing; DRY simulates with the fee cap as the
gas price where the order carries a fee."""

from __future__ import annotations

import json
from dataclasses import replace

from core.domain.fees import GWEI
from core.domain.risk import LeaderOrder
from core.domain.rows import SignalRow
from core.domain.states import IntentState, SignalState
from core.domain.types import USD, Action, Mode, Side
from core.domain.venue import VenueTerms
from tests.service.fakes import SIGNERS, PipelineRig, make_pipeline, to_sign
from tests.service.test_build import _sizing_input

GMX_LIKE = VenueTerms(
    min_position_usd_1e6=10 * USD,
    min_collateral_usd_1e6=2 * USD,
    increase_fee_gas=430_000,
    decrease_fee_gas=300_000,
)
CEILING = 500 * GWEI  # make_pipeline's fee ceiling


def test_each_request_carries_the_fee_for_the_fee_ceiling_by_its_kind() -> None:
    rig = make_pipeline(profile="standard")
    rig.venue.terms, rig.venue.terms_read = GMX_LIKE, True
    rig.order(1, "alice")
    rig.intents.add(replace(to_sign(2, "bob"), action="decrease"), rig.pk)
    rig.chain.balances.update({SIGNERS[n][1]: 10**19 for n in ("alice", "bob")})
    assert rig.pipeline.build(rig.pk) == 2
    fees = {o.action: o.execution_fee_wei for o in rig.venue.encoded}
    assert fees == {Action.OPEN: 430_000 * CEILING, Action.DECREASE: 300_000 * CEILING}


def test_the_terms_are_read_once_per_ttl_not_per_signal() -> None:
    rig = make_pipeline(profile="standard", terms_ttl_s=60.0)
    rig.venue.terms, rig.venue.terms_read = GMX_LIKE, True
    now = [1000.0]
    rig.pipeline.terms.clock = lambda: now[0]
    rig.chain.balances[SIGNERS["alice"][1]] = 10**19
    for i in (1, 2):
        rig.order(i, "alice")
        rig.pipeline.check_mode(rig.pk)
    assert rig.venue.terms_reads == 1
    now[0] += 60.0
    rig.order(3, "alice")
    rig.pipeline.check_mode(rig.pk)
    assert rig.venue.terms_reads == 2


def _size(rig: PipelineRig, order: LeaderOrder) -> None:
    row = SignalRow(rig.pk, "sig-1", 1, order, 3_000 * USD, SignalState.DISPATCHED, None, 1.0)
    rig.signals.signals[rig.pk] = row
    rig.signals.pending[rig.pk] = [_sizing_input(1)]
    rig.pipeline.size(rig.pk)


def test_an_open_under_the_venues_minimum_size_is_rejected_with_the_figure() -> None:
    rig = make_pipeline(profile="standard")
    rig.venue.terms, rig.venue.terms_read = GMX_LIKE, True
    _size(rig, LeaderOrder(Action.OPEN, "BTC", Side.LONG, 4 * USD, 2))  # 8 USD < 10
    assert rig.signals.sized[1][0].reason == "below_venue_minimum: position 8 < 10 USD"


def test_an_open_under_the_venues_minimum_collateral_is_rejected_with_the_figure() -> None:
    rig = make_pipeline(profile="standard")
    rig.venue.terms, rig.venue.terms_read = GMX_LIKE, True
    _size(rig, LeaderOrder(Action.OPEN, "BTC", Side.LONG, 1_500_000, 10))  # 15 USD on 1.5
    assert rig.signals.sized[1][0].reason == "below_venue_minimum: collateral 1.5 < 2 USD"


def test_at_the_minimums_the_open_is_sized() -> None:
    rig = make_pipeline(profile="standard")
    rig.venue.terms, rig.venue.terms_read = GMX_LIKE, True
    _size(rig, LeaderOrder(Action.OPEN, "BTC", Side.LONG, 2 * USD, 5))  # 10 USD on 2
    assert rig.signals.sized[1][0].accepted


def test_dry_simulates_a_fee_carrying_order_at_the_fee_cap_live_would_sign() -> None:
    rig = make_pipeline(Mode.DRY)
    rig.venue.value = 10**15
    rig.order(1, "alice")
    assert rig.pipeline.check_mode(rig.pk) == 1
    # the market's suggestion: 2 x the 10 gwei base fee + the 2 gwei tip
    assert rig.chain.gas_prices == [22 * GWEI]


def test_dry_of_an_order_without_a_fee_sets_no_gas_price() -> None:
    rig = make_pipeline(Mode.DRY)
    rig.order(1, "alice")
    assert rig.pipeline.check_mode(rig.pk) == 1
    assert rig.chain.gas_prices == [None]


def _collateral(rig: PipelineRig, name: str, balance: int, allowed: int) -> None:
    (call,) = rig.venue.collateral_calls(SIGNERS[name][1])
    rig.chain.call_results[call.data] = json.dumps([balance, allowed]).encode()


def test_collateral_short_of_the_order_is_rejected_before_a_nonce() -> None:
    rig = make_pipeline(profile="standard")
    rig.venue.takes_collateral = True
    rig.order(1, "alice")  # to_sign: 100 USD of collateral
    rig.order(2, "bob")
    rig.chain.balances.update({SIGNERS[n][1]: 10**19 for n in ("alice", "bob")})
    _collateral(rig, "alice", 100 * USD - 1, 10**6 * USD)
    _collateral(rig, "bob", 100 * USD, 100 * USD)
    assert rig.pipeline.build(rig.pk) == 1  # bob's goes on
    assert rig.intents.state(1) is IntentState.REJECTED
    assert rig.intents.reason(1) == "insufficient_collateral: 99.999999 USDC < 100 USDC"
    assert rig.intents.intents[1].nonce is None
    assert rig.intents.state(2) is IntentState.SIGNED


def test_an_allowance_short_of_the_order_is_rejected_before_a_nonce() -> None:
    rig = make_pipeline(profile="standard")
    rig.venue.takes_collateral = True
    rig.order(1, "alice")
    rig.chain.balances[SIGNERS["alice"][1]] = 10**19
    _collateral(rig, "alice", 10**6 * USD, 50 * USD)
    assert rig.pipeline.build(rig.pk) == 0
    assert rig.intents.reason(1) == (
        "no_allowance: 50 USDC approved < 100 USDC (copytrade follower approve)"
    )
    assert rig.intents.intents[1].nonce is None


def test_two_orders_of_one_signer_count_against_one_balance() -> None:
    rig = make_pipeline(profile="standard")
    rig.venue.takes_collateral = True
    rig.order(1, "alice")
    rig.order(2, "alice")
    rig.chain.balances[SIGNERS["alice"][1]] = 10**19
    _collateral(rig, "alice", 150 * USD, 10**6 * USD)
    assert rig.pipeline.build(rig.pk) == 1
    assert [rig.intents.state(i) for i in (1, 2)] == [IntentState.SIGNED, IntentState.REJECTED]
    assert rig.intents.reason(2) == "insufficient_collateral: 150 USDC < 200 USDC"


def test_a_decrease_needs_no_collateral_and_reads_none() -> None:
    rig = make_pipeline(profile="standard")
    rig.venue.takes_collateral = True
    rig.intents.add(replace(to_sign(1, "alice"), action="decrease"), rig.pk)
    rig.chain.balances[SIGNERS["alice"][1]] = 10**19
    assert rig.pipeline.build(rig.pk) == 1
    assert not [c for c in rig.chain.eth_calls if c[1].startswith(b"collateral:")]
