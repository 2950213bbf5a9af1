"""A replacement the node refuses for ever (the bump is unaffordable during a fee spike)
does not switch expiry off: at COPYTRADE_SENT_EXPIRY_S (counted from the intent's first
accepted broadcast, not from its newest attempt) the intent is cancelled by a no-op, and
the signer's next order goes out at the next nonce."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import procs
from tests.support.nomining import Rig, attempts_of, no_mining_rig, sent_intent

EXPIRY_S = 5


@pytest.fixture(scope="module")
def rig(stack: Any, session_dir: Any) -> Iterator[Rig]:
    with no_mining_rig(stack, session_dir, "refused", broker_db=15) as r:
        r.restart(COPYTRADE_SENT_EXPIRY_S=str(EXPIRY_S))
        yield r


def test_a_replacement_refused_for_ever_is_cancelled_by_a_no_op_at_expiry(rig: Rig) -> None:
    flow = rig.flow()
    leader = flow.leader()
    _, address = flow.follower(leader)
    intent = sent_intent(flow, leader)
    (first,) = attempts_of(flow, intent["id"])
    # The spike: the wallet still covers the order in the pool, but no bump of it.
    cost = first["max_fee_per_gas"] * first["gas_limit"]
    rig.chain.rpc("anvil_setBalance", address, hex(cost * 105 // 100))
    procs.wait_until(
        lambda: "insufficient" in (attempts_of(flow, intent["id"])[-1]["error"] or ""),
        15,
        "a bump refused by the node",
    )
    procs.wait_until(
        lambda: flow.q.intent(intent["id"])["state"] == "cancelling", 3 * EXPIRY_S, "cancelling"
    )
    noop = attempts_of(flow, intent["id"])[-1]
    assert noop["kind"] == "cancel"
    assert all(a["broadcast_at"] is None for a in attempts_of(flow, intent["id"])[1:-1])
    procs.wait_until(
        lambda: rig.chain.known([noop["tx_hash"]]) == {noop["tx_hash"]}, 10, "the no-op sent"
    )
    rig.mine(3)
    procs.wait_until(lambda: flow.q.intent(intent["id"])["state"] == "cancelled", 20, "cancelled")
    assert flow.position(address).size_usd_1e6 == 0
    rig.chain.rpc("anvil_setBalance", address, hex(10**18))  # the spike is over
    nxt = sent_intent(flow, leader)
    assert nxt["nonce"] == intent["nonce"] + 1
    rig.mine(3)
    procs.wait_until(lambda: flow.q.intent(nxt["id"])["state"] == "confirmed", 20, "confirmed")
    assert flow.position(address).size_usd_1e6 == 10 * 10**6


def test_a_pending_order_past_its_signal_age_gets_no_more_bumps_and_is_cancelled(
    rig: Rig,
) -> None:
    from datetime import datetime, timedelta

    # Long enough for a signal to reach `sent` on a loaded machine right after the restart
    # (sent_intent waits for it), short enough to be reached while the order is bumped.
    max_age = 12
    rig.restart(COPYTRADE_MAX_SIGNAL_AGE_S=str(max_age), COPYTRADE_SENT_EXPIRY_S="600")
    try:
        flow = rig.flow()
        leader = flow.leader()
        _, address = flow.follower(leader)
        intent = sent_intent(flow, leader)  # stuck in the pool: bumped every 1.5 s
        procs.wait_until(
            lambda: flow.q.intent(intent["id"])["state"] == "cancelling",
            max_age + 15,
            "cancelling",
        )
        done = flow.q.intent(intent["id"])
        assert done["reason"] == "stale"
        tries = done["attempts"]
        assert tries[-1]["kind"] == "cancel"
        limit = datetime.fromisoformat(intent["created_at"]) + timedelta(seconds=max_age + 1)
        assert all(
            datetime.fromisoformat(a["created_at"]) <= limit for a in tries if a["kind"] == "order"
        )
        noop = tries[-1]["tx_hash"]
        procs.wait_until(lambda: rig.chain.known([noop]) == {noop}, 10, "the no-op in the pool")
        rig.mine(3)
        procs.wait_until(
            lambda: flow.q.intent(intent["id"])["state"] == "cancelled", 20, "cancelled"
        )
        assert flow.position(address).size_usd_1e6 == 0
    finally:
        rig.restart(COPYTRADE_MAX_SIGNAL_AGE_S="120", COPYTRADE_SENT_EXPIRY_S=str(EXPIRY_S))
