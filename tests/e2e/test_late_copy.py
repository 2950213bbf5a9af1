"""A late copy never trades, on real workers: a signal held behind the leader's previous
one (the sequence gate) for longer than COPYTRADE_MAX_SIGNAL_AGE_S ends rejected(stale)
with no nonce; the one ahead of it, signed but released only after its age, is never
broadcast (the no-op gives its nonce back); the leader's next signal trades at once. On the
simple router and on the GMX venue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import procs
from tests.support.flow import Flow
from tests.support.pauses import paused
from tests.support.venues import VENUES, worker_set_on

MAX_AGE_S = 4


@pytest.fixture(params=VENUES)
def flow(stack: Any, request: pytest.FixtureRequest) -> Iterator[Flow]:
    with worker_set_on(
        request.param,
        stack,
        "late",
        2,
        COPYTRADE_MAX_SIGNAL_AGE_S=str(MAX_AGE_S),
        # Only the pause holds the signal ahead: a reconciler re-enqueueing its send
        # meanwhile would let it (and the one behind) go out while still young.
        COPYTRADE_RECONCILE_IDLE_AFTER_S="60",
    ) as ws:
        yield Flow(stack, ws.workers, services=ws.services)


def test_a_signal_gated_past_its_age_is_rejected_stale_and_nothing_late_is_sent(
    flow: Flow,
) -> None:
    leader = flow.leader()
    _, address = flow.follower(leader)
    ahead = flow.payload(leader, collateral_usd="10", leverage=1)
    behind = flow.payload(leader, collateral_usd="10", leverage=1)
    with paused(flow.stack.dir / "pause", "send.before_window") as point:
        flow.submit(ahead)
        point.wait_reached()  # signed, about to be broadcast
        flow.submit(behind)  # gated: the follower's earlier intent is not past send
        time.sleep(MAX_AGE_S + 0.5)
        (held,) = flow.q.intents(signal_id=behind["signal_id"])
        assert held["state"] in ("pending", "rejected")  # never sized for trading
    flow.wait_done(behind["signal_id"], timeout=20)
    (late,) = flow.q.intents(signal_id=behind["signal_id"])
    assert (late["state"], late["reason"], late["nonce"]) == ("rejected", "stale", None)
    (first,) = flow.q.intents(signal_id=ahead["signal_id"])
    procs.wait_until(
        lambda: flow.q.intent(first["id"])["state"] == "cancelled", 30, "the no-op landed"
    )
    # The late order never went out (its own hash: the intent's is the no-op's once mined).
    orders = [a["tx_hash"] for a in flow.q.intent(first["id"])["attempts"] if a["kind"] == "order"]
    assert orders
    assert not flow.s.chain.known(orders)
    assert flow.position(address).size_usd_1e6 == 0
    t0 = time.monotonic()
    nxt = flow.payload(leader, collateral_usd="10", leverage=1)
    flow.submit(nxt)
    flow.wait_done(nxt["signal_id"], timeout=30)
    assert time.monotonic() - t0 < 10
    (traded,) = flow.q.intents(signal_id=nxt["signal_id"])
    assert traded["state"] == "confirmed"
    assert flow.position(address).size_usd_1e6 == 10 * 10**6
