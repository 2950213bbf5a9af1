"""Every path that broadcasts goes through the broadcast window, and the window refuses
while stopped: a fee bump, a re-broadcast of a written-ahead attempt and a no-op cancel
(the first send is covered by test_emergency_stop). Each is driven while stopped, and the
node is asked whether anything reached it; on the simple router and on the GMX venue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import procs
from tests.support.nomining import STUCK_AFTER, Rig, attempts_of, no_mining_rig, sent_intent


@pytest.fixture(scope="module", params=[("simple", 15), ("gmx", 20)], ids=["simple", "gmx"])
def rig(stack: Any, session_dir: Any, request: pytest.FixtureRequest) -> Iterator[Rig]:
    venue, broker_db = request.param
    with no_mining_rig(
        stack, session_dir, f"windows-{venue}", broker_db=broker_db, venue_kind=venue
    ) as r:
        yield r


def test_stopped_no_bump_rebroadcast_or_no_op_reaches_the_node_until_resume(rig: Rig) -> None:
    flow = rig.flow()
    leader = flow.leader()
    _, address = rig.follower(flow, leader)
    intent = sent_intent(flow, leader)  # in the pool, never mined: a bump is due
    first = attempts_of(flow, intent["id"])[0]["tx_hash"]
    flow.s.mode.stop("pytest", "window test")
    try:
        # Several scan rounds: the first claims a bump (written ahead, refused by the
        # window), every later one tries to re-broadcast those bytes (refused again).
        procs.wait_until(
            lambda: len(attempts_of(flow, intent["id"])) >= 2, 10, "a bump written ahead"
        )
        time.sleep(3 * STUCK_AFTER)
        bumps = attempts_of(flow, intent["id"])[1:]
        assert [a["broadcast_at"] for a in bumps] == [None] * len(bumps)
        assert not rig.chain.known([a["tx_hash"] for a in bumps])
        assert flow.s.maintenance.cancel(intent["id"])  # the operator's no-op: written ...
        noop = attempts_of(flow, intent["id"])[-1]
        assert (noop["kind"], noop["broadcast_at"]) == ("cancel", None)
        time.sleep(2 * STUCK_AFTER)
        assert not rig.chain.known([noop["tx_hash"]])  # ... and not sent while stopped
        assert attempts_of(flow, intent["id"])[-1]["broadcast_at"] is None
        assert rig.chain.known([first]) == {first}  # only the order sent before the stop
    finally:
        flow.s.mode.resume("pytest", "window test over")
    procs.wait_until(
        lambda: rig.chain.known([noop["tx_hash"]]) == {noop["tx_hash"]}, 15, "the no-op sent"
    )
    rig.mine(3)
    procs.wait_until(lambda: flow.q.intent(intent["id"])["state"] == "cancelled", 20, "cancelled")
    assert flow.position(address).size_usd_1e6 == 0
