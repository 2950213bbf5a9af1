"""A signal never causes two sends: concurrent duplicate submits and a redelivered send, on
the simple router and on the GMX venue (orders counted from the venue's own events)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from core.domain.signals import parse_signal
from tests.support.chain import orders_placed
from tests.support.flow import Flow


@pytest.fixture
def flow(venue_flow: Flow) -> Flow:
    return venue_flow


def test_same_signal_id_from_two_processes_gives_one_intent_one_nonce_one_order(flow: Flow) -> None:
    leader = flow.leader()
    followers = [flow.follower(leader) for _ in range(5)]
    nonce0 = {a: flow.s.chain.nonce(a, "pending") for _, a in followers}  # gmx: its set-up
    signal_id = f"dup-{time.time_ns()}"
    cmd = [
        sys.executable,
        "-m",
        "core.cli",
        "signal",
        "submit",
        "--leader",
        leader,
        "--action",
        "open",
        "--asset",
        "BTC",
        "--side",
        "long",
        "--collateral-usd",
        "10",
        "--leverage",
        "2",
        "--price",
        "100000",
        "--signal-id",
        signal_id,
        "--json",
    ]
    procs = [
        subprocess.Popen(cmd, env=flow.env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    answers = sorted(json.loads(p.communicate(timeout=60)[0])["status"] for p in procs)
    assert answers == ["accepted", "duplicate"]
    flow.wait_done(signal_id)
    intents = flow.q.intents(signal_id=signal_id)
    assert sorted(i["follower_id"] for i in intents) == sorted(f for f, _ in followers)
    address_of = dict(followers)
    assert all(i["state"] == "confirmed" for i in intents)
    assert [i["nonce"] for i in intents] == [nonce0[address_of[i["follower_id"]]] for i in intents]
    on_chain = orders_placed(flow.s)
    assert [on_chain.get(i["idempotency_key"], 0) for i in intents] == [1] * 5
    for _, address in followers:
        assert flow.s.chain.nonce(address) == nonce0[address] + 1
        assert flow.position(address).size_usd_1e6 == 20 * 10**6


def test_send_redelivered_after_broadcast_changes_nothing(flow: Flow) -> None:
    """The first send broadcast but died before recording it; the redelivered send
    re-broadcasts the same bytes (the node says 'already imported'), one order lands."""
    s = flow.s
    leader = flow.leader()
    fid, address = flow.follower(leader)
    spec = parse_signal(flow.payload(leader, collateral_usd="10", leverage=2))
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    # Steps up to the write-ahead, in this process, on the real database and chain.
    s.pipeline.validate(pk)
    assert s.pipeline.size(pk) == (1, 0)
    s.pipeline.check_mode(pk)
    assert s.pipeline.build(pk) == 1
    (signed,) = s.intents.signed(pk)
    (first,) = s.chain.send_raw([signed.raw])  # the broadcast that "crashed" before the update
    assert first.accepted
    assert flow.q.intents(signal_id=spec.signal_id)[0]["state"] == "signed"
    s.intake.dispatcher.dispatch(pk, start="send")  # the redelivered send, then watch
    flow.wait_done(spec.signal_id)
    flow.run_task("copytrade.send", pk)  # and once more after it landed
    (intent,) = flow.q.intents(signal_id=spec.signal_id)
    detail = flow.q.intent(intent["id"])
    assert intent["state"] == "confirmed"
    assert intent["tx_hash"] == signed.tx_hash
    assert [a["tx_hash"] for a in detail["attempts"]] == [signed.tx_hash]
    assert orders_placed(s)[intent["idempotency_key"]] == 1
    assert flow.position(address).size_usd_1e6 == 20 * 10**6
    assert fid == intent["follower_id"]


def test_two_followers_sharing_a_signer_get_nonces_n_and_n_plus_1_both_mined(flow: Flow) -> None:
    """One build signs two intents of one signer address: each takes its own nonce."""
    leader = flow.leader()
    fid, address = flow.follower(leader)
    ref = flow.s.registry.follower(fid).signer_ref
    twin, _ = flow.follower(leader, signer=(ref, address))
    nonce0 = flow.s.chain.nonce(address, "pending")
    p = flow.payload(leader, collateral_usd="10", leverage=1)
    flow.submit(p)
    flow.wait_done(p["signal_id"])
    by_follower = flow.intents(p["signal_id"])
    assert sorted(i["nonce"] for i in by_follower.values()) == [nonce0, nonce0 + 1]
    assert [by_follower[f]["state"] for f in (fid, twin)] == ["confirmed", "confirmed"]
    assert flow.s.chain.nonce(address) == nonce0 + 2
    on_chain = orders_placed(flow.s)
    assert [on_chain.get(i["idempotency_key"]) for i in by_follower.values()] == [1, 1]
    assert flow.position(address).size_usd_1e6 == 20 * 10**6
