"""Stuck transactions on a node that mines only when told (`evm_mine`; anvil, or Hardhat's
node under `make test-nodes`):
replacement at the same nonce and calldata, the fee ceiling, dropped and reorged
transactions re-sent with the same bytes, the no-op cancel, two beats."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.support import procs
from tests.support.chain import cheat
from tests.support.nomining import (
    GWEI,
    SCAN,
    STUCK_AFTER,
    Rig,
    attempts_of,
    no_mining_rig,
    node_fees,
    sent_intent,
)
from tests.support.stacks import start_worker_set


@pytest.fixture(scope="module")
def rig(stack: Any, session_dir: Any) -> Iterator[Rig]:
    with no_mining_rig(stack, session_dir, "stuck", broker_db=7) as r:
        yield r


def test_stuck_transaction_is_replaced_same_nonce_same_calldata_fees_up_an_eighth(
    rig: Rig,
) -> None:
    flow = rig.flow()
    leader = flow.leader()
    flow.follower(leader)
    stuck = sent_intent(flow, leader)
    # Read the first attempt from the node before it is replaced (the pool then drops it).
    fee1, tip1, nonce1, input1 = node_fees(rig.chain, stuck["tx_hash"])
    procs.wait_until(lambda: len(attempts_of(flow, stuck["id"])) >= 2, 10, "a replacement")
    first, second = attempts_of(flow, stuck["id"])[:2]
    procs.wait_until(
        lambda: second["tx_hash"] in rig.chain.known([second["tx_hash"]]),
        5,
        "the replacement in the pool",
    )
    fee2, tip2, nonce2, input2 = node_fees(rig.chain, second["tx_hash"])
    assert nonce2 == nonce1 == stuck["nonce"]
    assert input2 == input1
    assert 8 * fee2 >= 9 * fee1
    assert 8 * tip2 >= 9 * tip1
    assert (fee1, tip1) == (first["max_fee_per_gas"], first["max_priority_fee_per_gas"])
    waited = second["created_at"] > first["broadcast_at"]
    assert waited
    # A healthy one sent now and mined at once is left alone.
    healthy_leader = flow.leader()
    flow.follower(healthy_leader)
    healthy = sent_intent(flow, healthy_leader)
    rig.mine(3)
    for i in (stuck, healthy):
        procs.wait_until(
            lambda i=i: flow.q.intent(i["id"])["state"] == "confirmed", 20, "confirmed"
        )
    assert len(attempts_of(flow, healthy["id"])) == 1
    mined = flow.q.intent(stuck["id"])
    assert mined["tx_hash"] in [a["tx_hash"] for a in mined["attempts"][1:]]


def test_fee_spike_over_the_ceiling_holds_then_a_raised_ceiling_replaces(rig: Rig) -> None:
    ceiling = 3 * GWEI
    rig.restart(COPYTRADE_FEE_CEILING_WEI=str(ceiling))
    try:
        flow = rig.flow()
        leader = flow.leader()
        flow.follower(leader)
        intent = sent_intent(flow, leader)
        cheat(rig.chain, "anvil_setNextBlockBaseFeePerGas", hex(10 * GWEI))
        rig.mine()  # the spike: the next base fee is far above what the ceiling allows
        procs.wait_until(lambda: flow.q.intent(intent["id"])["state"] == "held", 15, "held")
        held = flow.q.intent(intent["id"])
        assert all(a["max_fee_per_gas"] <= ceiling for a in held["attempts"])
        assert flow.q.intents(state="held")  # what `intents list --state held` shows
        rig.restart(COPYTRADE_FEE_CEILING_WEI=str(500 * GWEI))
        procs.wait_until(
            lambda: flow.q.intent(intent["id"])["state"] == "sent",
            15,
            "replaced after the ceiling was raised",
        )
        procs.wait_until(
            lambda: flow.q.intent(intent["id"])["attempts"][-1]["broadcast_at"] is not None,
            15,
            "the replacement broadcast",
        )
        newest = flow.q.intent(intent["id"])["attempts"][-1]
        assert newest["max_fee_per_gas"] > 10 * GWEI
        assert rig.chain.known([newest["tx_hash"]])
        rig.mine(3)
        procs.wait_until(
            lambda: flow.q.intent(intent["id"])["state"] == "confirmed", 20, "confirmed"
        )
    finally:
        rig.restart(COPYTRADE_FEE_CEILING_WEI=str(500 * GWEI))


def test_dropped_transaction_is_sent_again_with_the_same_bytes(rig: Rig) -> None:
    flow = rig.flow()
    leader = flow.leader()
    _, address = flow.follower(leader)
    intent = sent_intent(flow, leader)
    cheat(rig.chain, "anvil_dropTransaction", intent["tx_hash"])
    assert rig.chain.rpc("eth_getTransactionByHash", intent["tx_hash"]) is None
    procs.wait_until(
        lambda: rig.chain.rpc("eth_getTransactionByHash", intent["tx_hash"]) is not None,
        5,
        "the same bytes back in the pool",
    )
    rig.mine(3)
    procs.wait_until(lambda: flow.q.intent(intent["id"])["state"] == "confirmed", 20, "confirmed")
    assert flow.q.intent(intent["id"])["tx_hash"] == intent["tx_hash"]
    assert flow.position(address).size_usd_1e6 == 10 * 10**6


def test_reorged_out_transaction_goes_back_to_sent_and_the_same_hash_is_mined(rig: Rig) -> None:
    flow = rig.flow()
    leader = flow.leader()
    flow.follower(leader)
    intent = sent_intent(flow, leader)
    rig.mine_then_reorg(  # the block is replaced; its transactions dropped
        lambda: procs.wait_until(
            lambda: flow.q.intent(intent["id"])["state"] == "mined", 10, "mined"
        )
    )
    procs.wait_until(lambda: flow.q.intent(intent["id"])["state"] == "sent", 10, "back to sent")
    # The watcher's next round re-sends them; under load (two suites at once on two cores)
    # a round came later than 5 s: the property is that they go out again, not how soon.
    procs.wait_until(
        lambda: rig.chain.rpc("eth_getTransactionByHash", intent["tx_hash"]) is not None,
        20,
        "same bytes again",
    )
    rig.mine(3)
    procs.wait_until(lambda: flow.q.intent(intent["id"])["state"] == "confirmed", 20, "confirmed")
    assert flow.q.intent(intent["id"])["tx_hash"] == intent["tx_hash"]


def test_cancel_lands_the_no_op_and_the_next_intent_takes_the_next_nonce(rig: Rig) -> None:
    flow = rig.flow()
    leader = flow.leader()
    _, address = flow.follower(leader)
    intent = sent_intent(flow, leader)
    out = subprocess.run(
        procs.copytrade_cmd("intent", "cancel", str(intent["id"]), "--reason", "test"),
        env=rig.ws.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert flow.q.intent(intent["id"])["state"] == "cancelling"
    rig.mine(3)
    procs.wait_until(lambda: flow.q.intent(intent["id"])["state"] == "cancelled", 20, "cancelled")
    done = flow.q.intent(intent["id"])
    tx = rig.chain.rpc("eth_getTransactionByHash", done["tx_hash"])
    assert (tx["to"].lower(), int(tx["value"], 16), tx["input"]) == (address.lower(), 0, "0x")
    assert flow.position(address).size_usd_1e6 == 0
    nxt = sent_intent(flow, leader)
    assert nxt["nonce"] == intent["nonce"] + 1
    rig.mine(3)
    procs.wait_until(lambda: flow.q.intent(nxt["id"])["state"] == "confirmed", 20, "confirmed")
    assert rig.chain.nonce(address) == intent["nonce"] + 2
    assert flow.position(address).size_usd_1e6 == 10 * 10**6


def test_two_beats_replace_each_stuck_intent_once_per_round(rig: Rig) -> None:
    rig.ws.stop()
    rig.ws = start_worker_set(rig.stack, "stuck", 7, beats=2, **rig._overrides())
    try:
        flow = rig.flow()
        leader = flow.leader()
        flow.follower(leader)
        intent = sent_intent(flow, leader)
        time.sleep(4 * STUCK_AFTER)
        tries = attempts_of(flow, intent["id"])
        assert len(tries) >= 3  # several rounds happened
        fees = [a["max_fee_per_gas"] for a in tries]
        assert all(8 * b >= 9 * a for a, b in zip(fees, fees[1:], strict=False))
        made = [a["created_at"] for a in tries]
        gaps = [
            (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()
            for a, b in zip(made, made[1:], strict=False)
        ]
        assert min(gaps) >= STUCK_AFTER - 0.1  # never two replacements in one round
        rig.mine(3)
        procs.wait_until(
            lambda: flow.q.intent(intent["id"])["state"] == "confirmed", 20, "confirmed"
        )
    finally:
        rig.restart()


def test_expired_sent_and_stale_signed_intents_are_cancelled_by_no_ops(rig: Rig) -> None:
    from core.domain.signals import parse_signal

    # The max age leaves a loaded machine time to send the first signal (sent_intent) and
    # to build the second; the second is stale max_age_s after it was issued.
    max_age = 12
    rig.restart(
        COPYTRADE_SENT_EXPIRY_S="2",
        COPYTRADE_STUCK_AFTER_S="100",
        COPYTRADE_MAX_SIGNAL_AGE_S=str(max_age),
    )
    try:
        flow = rig.flow()
        leader = flow.leader()
        flow.follower(leader)
        expiring = sent_intent(flow, leader)
        # A second follower's intent signed but never broadcast (as after a stop), its
        # signal older than the max age by the time the scan looks.
        other_leader = flow.leader()
        _, other_addr = flow.follower(other_leader)
        s = flow.s
        spec = parse_signal({**flow.payload(other_leader), "issued_at": int(time.time()) - 2})
        _, pk = s.signals.insert_signal(spec, s.registry.leader_id(other_leader), "test")
        s.pipeline.validate(pk)
        s.pipeline.size(pk)
        assert s.pipeline.build(pk) == 1
        (signed,) = flow.q.intents(signal_id=spec.signal_id)
        for i in (expiring, signed):
            procs.wait_until(
                lambda i=i: flow.q.intent(i["id"])["state"] == "cancelling",
                max_age + 15,
                "cancelling",
            )
            procs.wait_until(  # the no-op is claimed first, then broadcast
                lambda i=i: flow.q.intent(i["id"])["attempts"][-1]["broadcast_at"] is not None,
                15,
                "the no-op broadcast",
            )
        rig.mine(3)
        for i in (expiring, signed):
            procs.wait_until(
                lambda i=i: flow.q.intent(i["id"])["state"] == "cancelled", 20, "cancelled"
            )
        assert rig.chain.nonce(other_addr) == 1  # the nonce was consumed by the no-op
        assert flow.position(other_addr).size_usd_1e6 == 0
    finally:
        rig.restart(
            COPYTRADE_SENT_EXPIRY_S="600",
            COPYTRADE_STUCK_AFTER_S=str(STUCK_AFTER),
            COPYTRADE_MAX_SIGNAL_AGE_S="120",
        )


def test_worker_killed_with_a_replacement_in_flight_sends_its_written_bytes(rig: Rig) -> None:
    import os
    import signal

    from core.services.verify import verify
    from tests.support.pauses import Pause

    flow = rig.flow()
    leader = flow.leader()
    _, address = flow.follower(leader)
    crash = Pause(rig.stack.dir / "pause", "replace.after_claim")
    crash.arm()
    try:
        intent = sent_intent(flow, leader)
        pid = crash.wait_reached(timeout=20)
        claimed = attempts_of(flow, intent["id"])[-1]
        assert (claimed["attempt_no"], claimed["broadcast_at"]) == (2, None)  # in flight
        os.kill(pid, signal.SIGKILL)
    finally:
        crash.clear()
    procs.wait_until(
        lambda: attempts_of(flow, intent["id"])[1]["broadcast_at"] is not None,
        15,
        "the written-ahead replacement sent",
    )
    assert attempts_of(flow, intent["id"])[1]["tx_hash"] == claimed["tx_hash"]
    rig.mine(3)
    procs.wait_until(lambda: flow.q.intent(intent["id"])["state"] == "confirmed", 20, "confirmed")
    assert flow.position(address).size_usd_1e6 == 10 * 10**6
    s = flow.s
    report = verify(s.audit_queries, s.chain, s.venue, 120)
    assert report.breaches == []


def test_our_nonce_used_outside_is_detected_and_the_order_re_signed_at_the_next(
    rig: Rig,
) -> None:
    from core.services.verify import verify
    from tests.support.chain import orders_by_client_id, spend_outside

    flow = rig.flow()
    leader = flow.leader()
    fid, address = flow.follower(leader)
    intent = sent_intent(flow, leader)
    # Someone holding the same key spends nonce 0 outside the system, out-bidding ours.
    outside = spend_outside(rig.chain, flow.s.registry.follower(fid).signer_ref, intent["nonce"])
    rig.mine()
    assert rig.chain.receipts([outside])
    time.sleep(4 * SCAN)  # scans see it one block deep: not yet taken as used outside
    assert flow.q.intent(intent["id"])["nonce"] == intent["nonce"]
    rig.mine()  # COPYTRADE_CONFIRMATIONS (2) deep: two scans in a row then re-sign it
    procs.wait_until(
        lambda: flow.q.intent(intent["id"])["nonce"] == intent["nonce"] + 1,
        15,
        "re-signed at the next nonce",
    )
    moved = flow.q.intent(intent["id"])
    assert moved["reason"] == f"re-signed: nonce {intent['nonce']} used outside the system"
    procs.wait_until(
        lambda: flow.q.intent(intent["id"])["attempts"][-1]["broadcast_at"] is not None,
        15,
        "the re-signed order sent",
    )
    rig.mine(3)
    procs.wait_until(lambda: flow.q.intent(intent["id"])["state"] == "confirmed", 20, "confirmed")
    assert flow.position(address).size_usd_1e6 == 10 * 10**6
    assert (
        orders_by_client_id(rig.chain, rig.env["COPYTRADE_VENUE_ADDRESS"])[
            intent["idempotency_key"]
        ]
        == 1
    )
    s = flow.s
    report = verify(s.audit_queries, s.chain, s.venue, 120)
    assert report.breaches == []
    assert report.figures["nonces_used_outside"] >= 1
