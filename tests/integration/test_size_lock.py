"""The follower rows sizing locks, held open at `size.before_commit`: a second sizing of
the same signal (a redelivered `size`) waits for them, then finds nothing left to size; the
leader's next signal is expanded meanwhile — its intents reference those rows, and the
foreign key's check (FOR KEY SHARE) must not queue behind the sizing (FOR NO KEY UPDATE) —
and its own `size`, gated behind the first, answers without waiting for the locks. Under
sustained load each of those waits came once per signal (B3, docs/benchmarks.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from core.adapters.postgres.tables import intents
from core.domain.signals import parse_signal
from tests.support.flow import Flow, own_flow
from tests.support.pauses import paused


@pytest.fixture
def flow(stack: Any) -> Iterator[Flow]:
    with own_flow(stack, "ct_size_lock") as f:
        yield f


def insert(flow: Flow, leader: str) -> int:
    body = flow.payload(leader, collateral_usd="10", leverage=1)
    s = flow.s
    _, pk = s.signals.insert_signal(parse_signal(body), s.registry.leader_id(leader), "test")
    return pk


def intents_of(flow: Flow, pk: int) -> int:
    with flow.s.db.tx() as conn:
        return int(conn.execute(select(func.count()).where(intents.c.signal_pk == pk)).scalar_one())


def test_the_next_signal_expands_and_gates_while_a_sizing_holds_the_followers(
    flow: Flow,
) -> None:
    leader = flow.leader()
    for _ in range(3):
        flow.follower(leader)
    first = insert(flow, leader)
    flow.s.pipeline.validate(first)
    second = insert(flow, leader)
    expanded = threading.Event()
    gated: list[tuple[int, int]] = []
    again: list[tuple[int, int]] = []
    with paused(flow.stack.dir / "pause", "size.before_commit") as point:
        t1 = threading.Thread(target=lambda: flow.s.pipeline.size(first))
        t1.start()
        point.wait_reached()  # decided, the follower rows locked, not committed
        t2 = threading.Thread(target=lambda: (flow.s.pipeline.validate(second), expanded.set()))
        t2.start()
        # the expansion inserts the followers' intents: it must not wait for the sizing
        assert expanded.wait(20), "the next signal's expansion waited for the sizing's locks"
        assert intents_of(flow, second) == 3
        # the second signal's size: gated behind the first, answered without the locks
        t3 = threading.Thread(target=lambda: gated.append(flow.s.pipeline.size(second)))
        t3.start()
        t3.join(20)
        assert gated == [(0, 3)], "the gated sizing waited for the sizing's locks"
        # the same signal sized again (a redelivery) waits for the first's locks
        t4 = threading.Thread(target=lambda: again.append(flow.s.pipeline.size(first)))
        t4.start()
        t4.join(1.5)
        assert again == []
        point.release()
        t1.join(30)
        t2.join(30)
        t4.join(30)
    assert again == [(0, 0)]  # nothing left pending: the first sizing had it all
    assert flow.s.pipeline.size(second) == (0, 3)  # still behind the first's unsent orders
