"""What the pipeline asks of the venue port beyond calldata: the value an order carries
(a GMX execution fee) in the signed transaction, the DRY simulation and the affordability
check; a close on a venue that closes by size (GMX) carries the position read from it."""

from __future__ import annotations

import json
from dataclasses import replace

from core.domain.fees import GWEI
from core.domain.states import IntentState
from core.domain.types import Mode
from tests.service.fakes import GAS_LIMIT, SIGNERS, make_pipeline, to_sign
from tests.service.fakes_chain import decode_raw

FEE = 3 * 10**15  # the execution fee the venue's calldata carries
NEED = 22 * GWEI * GAS_LIMIT  # the worst-case gas of one order at the default market


def test_the_signed_order_carries_the_venues_value() -> None:
    rig = make_pipeline(profile="standard")
    rig.venue.value = FEE
    rig.order(1, "alice")
    rig.chain.balances[SIGNERS["alice"][1]] = NEED + FEE
    assert rig.pipeline.build(rig.pk) == 1
    first = rig.intents.first_attempt(1)
    assert first is not None
    assert decode_raw(first.raw)["value"] == FEE


def test_gas_plus_the_value_must_be_affordable_before_a_nonce() -> None:
    rig = make_pipeline(profile="standard")
    rig.venue.value = FEE
    rig.order(1, "alice")
    rig.chain.balances[SIGNERS["alice"][1]] = NEED + FEE - 1
    assert rig.pipeline.build(rig.pk) == 0
    assert rig.intents.state(1) is IntentState.REJECTED
    assert rig.intents.reason(1) == (
        f"insufficient_funds: {NEED + FEE - 1} wei < {NEED + FEE} wei of gas and fees"
    )
    assert rig.intents.intents[1].nonce is None


def test_dry_simulates_with_the_value_live_would_send() -> None:
    rig = make_pipeline(Mode.DRY)
    rig.venue.value = FEE
    rig.order(1, "alice")
    assert rig.pipeline.check_mode(rig.pk) == 1
    assert rig.chain.call_values == [FEE]


def _close(rig: object, intent_id: int, side: str = "long") -> None:
    t = replace(to_sign(intent_id, "alice"), action="close", side=side)
    rig.intents.add(t, rig.pk)  # type: ignore[attr-defined]


def test_a_close_carries_the_whole_position_read_from_the_venue() -> None:
    rig = make_pipeline(profile="standard")
    rig.venue.closes_by_size = True
    alice = SIGNERS["alice"][1]
    position = rig.venue.position_call(alice, "BTC").data
    rig.chain.call_results[position] = json.dumps([True, 200, 100, 200 * 10**24 + 7]).encode()
    rig.chain.balances[alice] = NEED
    _close(rig, 1)
    assert rig.pipeline.build(rig.pk) == 1
    assert [o.close_size for o in rig.venue.encoded] == [200 * 10**24 + 7]
    assert rig.venue.encoded[0].account == alice


def test_a_close_with_no_position_on_that_side_is_rejected_before_a_nonce() -> None:
    rig = make_pipeline(profile="standard")
    rig.venue.closes_by_size = True
    alice = SIGNERS["alice"][1]
    position = rig.venue.position_call(alice, "BTC").data
    rig.chain.call_results[position] = json.dumps([False, 200, 100, 200 * 10**24]).encode()
    rig.chain.balances[alice] = NEED
    _close(rig, 1)
    assert rig.pipeline.build(rig.pk) == 0
    assert rig.intents.state(1) is IntentState.REJECTED
    assert rig.intents.reason(1) == "no_position: no long BTC position to close"
    assert rig.intents.intents[1].nonce is None


def test_a_close_on_a_venue_that_closes_by_side_reads_nothing() -> None:
    rig = make_pipeline(profile="standard")
    rig.chain.balances[SIGNERS["alice"][1]] = NEED
    _close(rig, 1)
    assert rig.pipeline.build(rig.pk) == 1
    assert rig.chain.eth_calls == []
    assert rig.venue.encoded[0].close_size is None
