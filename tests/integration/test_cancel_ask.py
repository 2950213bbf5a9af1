"""ReceiptStore.ask_cancel and awaiting_outcome on the real PostgreSQL (decision 0021):
copytrade's cancel of a mined request is created once while one is live or done, asked
again with the next leg when one ended without effect, never past MAX_CANCELS, never
after one was recorded dry_run, and only for a request still mined with that key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from core.adapters.postgres.receipts import MAX_CANCELS
from core.adapters.postgres.tables import intents
from core.bootstrap import Services
from core.domain.signals import parse_signal
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import settings_with

KEY = "0x" + "ab" * 32


@pytest.fixture
def flow(stack: Any) -> Iterator[Flow]:
    with fresh_database("ct_cancel_ask") as url:
        s = Services(settings_with({**stack.env, "COPYTRADE_DATABASE_URL": url}))
        yield Flow(stack, services=s)
        s.db.dispose()


def mined_request(flow: Flow) -> tuple[int, int]:
    """A request intent moved to mined with an order key (what the watcher leaves):
    (signal pk, intent id)."""
    leader = flow.leader()
    flow.follower(leader)
    spec = parse_signal(flow.payload(leader, collateral_usd="10", leverage=1))
    s = flow.s
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    with s.db.tx() as conn:
        (iid,) = conn.execute(select(intents.c.id).where(intents.c.signal_pk == pk)).scalars()
        conn.execute(
            update(intents)
            .where(intents.c.id == iid)
            .values(state="mined", venue_order_key=KEY, tx_hash="0x" + "11" * 32, block_number=5)
        )
    return pk, iid


def legs(flow: Flow, pk: int) -> list[tuple[int, str, str]]:
    with flow.s.db.tx() as conn:
        rows = conn.execute(
            select(intents.c.leg, intents.c.action, intents.c.state)
            .where(intents.c.signal_pk == pk, intents.c.leg > 0)
            .order_by(intents.c.leg)
        ).all()
    return [(int(a), b, c) for a, b, c in rows]


def end(flow: Flow, pk: int, leg: int, state: str) -> None:
    with flow.s.db.tx() as conn:
        conn.execute(
            update(intents)
            .where(intents.c.signal_pk == pk, intents.c.leg == leg)
            .values(state=state)
        )


def asked(flow: Flow, iid: int) -> bool:
    (row,) = [r for r in flow.s.receipts.awaiting_outcome() if r.intent_id == iid]
    return row.cancel_asked


def test_one_cancel_while_it_lives_the_next_leg_when_it_ended_without_effect(flow: Flow) -> None:
    store = flow.s.receipts
    pk, iid = mined_request(flow)
    assert not asked(flow, iid)
    assert store.ask_cancel(iid, KEY) == pk
    assert store.ask_cancel(iid, KEY) is None  # a second asker (another watcher) adds none
    assert legs(flow, pk) == [(1, "cancel", "created")]
    assert asked(flow, iid)
    end(flow, pk, 1, "rejected")  # e.g. insufficient_funds: it never went out
    assert not asked(flow, iid)
    assert store.ask_cancel(iid, KEY) == pk
    for leg in range(2, MAX_CANCELS):
        end(flow, pk, leg, "reverted")
        assert store.ask_cancel(iid, KEY) == pk
    end(flow, pk, MAX_CANCELS, "cancelled")
    assert asked(flow, iid)  # MAX_CANCELS asked: an operator's now
    assert store.ask_cancel(iid, KEY) is None
    assert [leg for leg, _, _ in legs(flow, pk)] == list(range(1, MAX_CANCELS + 1))
    # never counted as exposure, never a request awaiting its own outcome
    assert {r.intent_id for r in store.awaiting_outcome()} == {iid}


def test_a_cancel_recorded_dry_run_is_not_asked_again(flow: Flow) -> None:
    pk, iid = mined_request(flow)
    assert flow.s.receipts.ask_cancel(iid, KEY) == pk
    end(flow, pk, 1, "dry_run")
    assert asked(flow, iid)
    assert flow.s.receipts.ask_cancel(iid, KEY) is None


def test_no_cancel_for_a_request_no_longer_mined_or_of_another_key(flow: Flow) -> None:
    pk, iid = mined_request(flow)
    assert flow.s.receipts.ask_cancel(iid, "0x" + "cd" * 32) is None
    with flow.s.db.tx() as conn:
        conn.execute(update(intents).where(intents.c.id == iid).values(state="executed"))
    assert flow.s.receipts.ask_cancel(iid, KEY) is None
    assert legs(flow, pk) == []
