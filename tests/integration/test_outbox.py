"""The notifications outbox on the real PostgreSQL: a reported change writes its row in the
same transaction (rolled back with it: never a message for a change that did not happen),
once per change whoever writes it, only for followers with a destination, never for
copytrade's own cancel legs; the facts are the follower's own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from core.adapters.postgres import outbox
from core.adapters.postgres.cas import cas_many
from core.adapters.postgres.tables import intents, notifications
from core.domain.signals import parse_signal
from core.domain.states import IntentState
from tests.support.flow import Flow, own_flow


@pytest.fixture
def own(stack: Any) -> Iterator[Flow]:
    with own_flow(stack, "ct_outbox") as flow:
        yield flow


def expanded(flow: Flow, n_followers: int, notify: int) -> tuple[int, list[int]]:
    """A signal of a new leader expanded to one pending intent per follower; the first
    `notify` followers have a destination. Returns (signal pk, follower ids)."""
    s = flow.s
    leader = flow.leader()
    fids = []
    for i in range(n_followers):
        fid, _ = flow.follower(leader)
        if i < notify:
            s.registry.set_notify_url(fid, f"json://127.0.0.1:9/{fid}", "json://…", "t", None)
        fids.append(fid)
    spec = parse_signal(flow.payload(leader))
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    flow.s.pipeline.validate(pk)
    return pk, fids


def outbox_rows(flow: Flow) -> list[Any]:
    with flow.s.db.tx() as conn:
        return list(conn.execute(select(notifications).order_by(notifications.c.id)).mappings())


def pending_ids(flow: Flow, pk: int) -> list[int]:
    with flow.s.db.tx() as conn:
        return list(
            conn.execute(
                select(intents.c.id).where(intents.c.signal_pk == pk).order_by(intents.c.id)
            ).scalars()
        )


def reject_then_fail(flow: Flow, ids: list[int]) -> None:
    """The intents moved to rejected, then the transaction fails before its commit."""
    with flow.s.db.tx() as conn:
        moved = cas_many(
            conn, IntentState.PENDING, IntentState.REJECTED, [{"b_id": i} for i in ids],
            reason="stale",
        )  # fmt: skip
        assert moved == len(ids)
        with flow.s.db.tx() as other:  # another transaction sees nothing yet
            assert other.execute(select(func.count()).select_from(notifications)).scalar() == 0
        raise RuntimeError("rolled back")


def test_a_reported_change_writes_its_row_in_its_own_transaction(own: Flow) -> None:
    pk, fids = expanded(own, 3, notify=2)
    ids = pending_ids(own, pk)
    with pytest.raises(RuntimeError, match="rolled back"):
        reject_then_fail(own, ids)
    assert outbox_rows(own) == []  # the change rolled back: so did its report

    assert own.s.signals.reject_pending(pk, "stale") == 3
    got = outbox_rows(own)
    assert [(r["destination"], r["event"]) for r in got] == [
        (f"follower:{fids[0]}", "rejected"),
        (f"follower:{fids[1]}", "rejected"),
    ]  # the third follower has no destination
    facts = got[0]["facts"]
    assert facts["reason"] == "stale"
    assert facts["action"] == "open"
    assert facts["asset"] == "BTC"
    assert {r["state"] for r in got} == {"pending"}


def test_the_same_change_is_one_row_whoever_writes_it(own: Flow) -> None:
    pk, _ = expanded(own, 1, notify=1)
    own.s.signals.reject_pending(pk, "stale")
    with own.s.db.tx() as conn:  # a second writer of the same change (a redelivery)
        assert outbox.intents_moved(conn, pending_ids(own, pk), IntentState.REJECTED) == 0
    assert len(outbox_rows(own)) == 1


def test_a_followers_reports_moved_at_once_are_in_signal_order_not_insert_order(
    own: Flow,
) -> None:
    # Two signals expanded concurrently can insert the later one's intent first (a lower
    # id); confirmed in one pass, the follower's reports still come in the leader's order.
    s = own.s
    leader = own.leader()
    fid, _ = own.follower(leader)
    s.registry.set_notify_url(fid, f"json://127.0.0.1:9/{fid}", "json://…", "t", None)
    lid = s.registry.leader_id(leader)
    _, first = s.signals.insert_signal(parse_signal(own.payload(leader)), lid, "test")
    eth = own.payload(leader, asset="ETH", price_usd="3000")
    _, second = s.signals.insert_signal(parse_signal(eth), lid, "test")
    s.pipeline.validate(second)
    s.pipeline.validate(first)
    ids = pending_ids(own, second) + pending_ids(own, first)
    assert ids == sorted(ids)  # the later signal's intent has the lower id
    with s.db.tx() as conn:
        rows = [{"b_id": i} for i in ids]
        assert cas_many(conn, IntentState.PENDING, IntentState.REJECTED, rows, reason="x") == 2
        outbox.intents_moved(conn, ids, IntentState.REJECTED)
    assert [r["signal_pk"] for r in outbox_rows(own)] == [first, second]
