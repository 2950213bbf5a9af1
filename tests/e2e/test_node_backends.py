"""One suite, two node implementations (as web3.py runs one suite per provider): anvil and
Hardhat's node (Hardhat 3 on EDR, Node.js 22 from npm), each its own process mining every
0.5 s, the simple router deployed on it, a worker set on a fresh database. On each: one
signal to hand-computed confirmed positions; a transaction stuck while the node mines
nothing is replaced at the same nonce (the node takes the bump) and lands once; a worker
SIGKILLed right after its broadcast recovers within seconds — the re-sent transaction is
recognised from the chain, nothing is sent twice."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from core.adapters.chain import Chain
from core.adapters.signers.local import LocalSigner
from core.adapters.venue_admin import deploy
from core.services.verify import verify
from tests.support import procs
from tests.support.chain import ANVIL_KEY0, set_interval_mining
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.pauses import Pause
from tests.support.stacks import live_worker_set

USD = 10**6
NODES = {"anvil": 23, "hardhat": 24}  # node -> its worker set's broker DB


@pytest.fixture(scope="module", params=list(NODES))
def node_flow(stack: Any, request: pytest.FixtureRequest) -> Iterator[Flow]:
    name = request.param
    if name == "anvil":
        node, url = procs.start_anvil(stack.dir, "--block-time", "0.5")
    else:
        node, url = procs.start_hardhat(stack.dir, block_ms=500)
    try:
        venue = deploy(Chain(url), LocalSigner.from_key(ANVIL_KEY0), 31337, {"BTC": 100_000 * USD})
        with (
            fresh_database(f"ct_node_{name}") as db_url,
            live_worker_set(
                stack,
                f"node-{name}",
                NODES[name],
                db_url,
                COPYTRADE_RPC_URL=url,
                COPYTRADE_VENUE_ADDRESS=venue,
                COPYTRADE_STUCK_AFTER_S="3",
                COPYTRADE_STUCK_SCAN_PERIOD_S="0.5",
            ) as ws,
        ):
            yield Flow(stack, ws.workers, services=ws.services, env=ws.env)
    finally:
        node.stop()


def test_one_signal_lands_hand_computed_confirmed_positions(node_flow: Flow) -> None:
    flow = node_flow
    leader = flow.leader()
    cases = {  # sizing: position size (the leader: 100 USD collateral x 5)
        "ratio:1": 500 * USD,
        "ratio:0.5": 250 * USD,
        "fixed-notional:333.33": 333_300_000,
    }
    followers = {rule: flow.follower(leader, sizing=rule) for rule in cases}
    payload = flow.payload(leader, collateral_usd="100", leverage=5, price_usd="100000")
    assert flow.submit(payload)["status"] == "accepted"
    assert flow.wait_done(payload["signal_id"])["state"] == "done"
    intents = flow.intents(payload["signal_id"])
    for rule, size in cases.items():
        fid, address = followers[rule]
        assert intents[fid]["state"] == "confirmed", (rule, intents[fid])
        assert flow.position(address).size_usd_1e6 == size, rule


def test_a_worker_killed_right_after_its_broadcast_recovers_within_seconds(
    stack: Any, node_flow: Flow
) -> None:
    flow = node_flow
    leader = flow.leader()
    followers = [flow.follower(leader, sizing=s) for s in ("ratio:1", "ratio:0.5")]
    crash = Pause(stack.dir / "pause", "send.after_broadcast")
    crash.arm()
    try:
        payload = flow.payload(leader, collateral_usd="10", leverage=2)
        assert flow.submit(payload)["status"] == "accepted"
        pid = crash.wait_reached(timeout=60)
        os.kill(pid, signal.SIGKILL)
    finally:
        crash.clear()
    t0 = time.monotonic()
    assert flow.wait_done(payload["signal_id"], timeout=60)["state"] == "done"
    recovered_s = time.monotonic() - t0
    intents = flow.intents(payload["signal_id"])
    assert {i["state"] for i in intents.values()} == {"confirmed"}
    for (_, address), size in zip(followers, (20 * USD, 10 * USD), strict=True):
        assert flow.position(address).size_usd_1e6 == size  # each order placed once
    s = flow.s
    assert verify(s.audit_queries, s.chain, s.venue, s.settings.max_signal_age_s).breaches == []
    print(f"recovered in {recovered_s:.1f} s")


def test_a_stuck_order_is_replaced_at_its_nonce_and_lands_once(node_flow: Flow) -> None:
    flow = node_flow
    chain = flow.s.chain
    leader = flow.leader()
    _, address = flow.follower(leader)
    set_interval_mining(chain, 0)  # the node mines nothing for now
    try:
        payload = flow.payload(leader, collateral_usd="10", leverage=1)
        assert flow.submit(payload)["status"] == "accepted"
        procs.wait_until(lambda: len(flow.intents(payload["signal_id"])) == 1, 20, "the intent")
        (intent,) = flow.intents(payload["signal_id"]).values()

        def replaced() -> bool:
            sent = [a for a in flow.q.intent(intent["id"])["attempts"] if a["broadcast_at"]]
            return len(sent) >= 2

        procs.wait_until(replaced, 30, "a replacement the node accepted")
    finally:
        set_interval_mining(chain, 500)
    procs.wait_until(lambda: flow.q.intent(intent["id"])["state"] == "confirmed", 30, "confirmed")
    attempts = flow.q.intent(intent["id"])["attempts"]
    assert len({a["nonce"] for a in attempts}) == 1  # every attempt at the same nonce
    assert attempts[1]["max_fee_per_gas"] > attempts[0]["max_fee_per_gas"]
    assert flow.position(address).size_usd_1e6 == 10 * USD  # placed once
