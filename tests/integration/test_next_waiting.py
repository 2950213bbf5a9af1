"""The signal a `send` (or a `size` that sized nothing) wakes: the leader's next signal
with an intent still pending, on the real PostgreSQL — never another leader's, never one
whose intents have all moved on, none after the last. Without it a leader's queue waits
for the reconciler."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update

from core.adapters.postgres.tables import intents
from core.domain.signals import parse_signal
from tests.support.flow import Flow, own_flow


@pytest.fixture
def flow(stack: Any) -> Iterator[Flow]:
    with own_flow(stack, "ct_next_waiting") as f:
        yield f


def expanded(flow: Flow, leader: str) -> int:
    body = flow.payload(leader, collateral_usd="10", leverage=1)
    s = flow.s
    _, pk = s.signals.insert_signal(parse_signal(body), s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    return pk


def moved_on(flow: Flow, pk: int) -> None:
    with flow.s.db.tx() as conn:
        conn.execute(update(intents).where(intents.c.signal_pk == pk).values(state="rejected"))


def test_the_leaders_next_signal_with_a_pending_intent_is_woken(flow: Flow) -> None:
    a, b = flow.leader(), flow.leader()
    for leader in (a, a, b):
        flow.follower(leader)
    a1 = expanded(flow, a)
    b1 = expanded(flow, b)
    a2, a3 = expanded(flow, a), expanded(flow, a)
    nxt = flow.s.signals.next_waiting
    assert (nxt(a1), nxt(a2), nxt(a3)) == (a2, a3, None)
    assert nxt(b1) is None  # b's only signal: a's later ones are not b's to wake
    moved_on(flow, a2)  # all of a2's intents past pending: a3 is next after a1
    assert nxt(a1) == a3
    moved_on(flow, a3)
    assert nxt(a1) is None
