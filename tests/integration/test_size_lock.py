"""The follower rows sizing locks, held open at `size.before_commit`: another sizing of the
same followers waits for them (the exposure it reads includes the first's order), but the
leader's next signal is expanded meanwhile — its intents reference those rows, and the
foreign key's check (FOR KEY SHARE) must not queue behind the sizing (FOR NO KEY UPDATE).
Under sustained load the two took turns on every follower row (B3, docs/benchmarks.md)."""

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


def test_the_next_signal_expands_while_a_sizing_holds_the_followers_and_sizing_waits(
    flow: Flow,
) -> None:
    leader = flow.leader()
    for _ in range(3):
        flow.follower(leader)
    first = insert(flow, leader)
    flow.s.pipeline.validate(first)
    second = insert(flow, leader)
    expanded = threading.Event()
    sized: list[tuple[int, int]] = []
    with paused(flow.stack.dir / "pause", "size.before_commit") as point:
        t1 = threading.Thread(target=lambda: flow.s.pipeline.size(first))
        t1.start()
        point.wait_reached()  # decided, the follower rows locked, not committed
        t2 = threading.Thread(target=lambda: (flow.s.pipeline.validate(second), expanded.set()))
        t2.start()
        # the expansion inserts the followers' intents: it must not wait for the sizing
        assert expanded.wait(20), "the next signal's expansion waited for the sizing's locks"
        assert intents_of(flow, second) == 3
        t3 = threading.Thread(target=lambda: sized.append(flow.s.pipeline.size(second)))
        t3.start()
        t3.join(1.5)
        assert sized == []  # a second sizing of the same followers waits for the first
        point.release()
        t1.join(30)
        t2.join(30)
        t3.join(30)
    assert sized == [(0, 3)]  # then gated: the first's orders are not past send
