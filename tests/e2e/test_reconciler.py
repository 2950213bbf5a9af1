"""The reconciler re-enqueues exactly the step that is missing: a dispatch deferred while the
broker was down, and a chain whose messages were lost mid-way (on the simple router and on
the GMX venue)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import text, update

from core.adapters.celery_dispatch import CeleryDispatcher
from core.adapters.postgres.stalled import LOCK, ReconcileStore
from core.adapters.postgres.tables import intents
from core.domain.signals import parse_signal
from core.services.intake import Intake
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.procs import free_port
from tests.support.stacks import WorkerSet
from tests.support.venues import VENUES, worker_set_on


@pytest.fixture(params=VENUES)
def rig(stack: Any, request: pytest.FixtureRequest) -> Iterator[WorkerSet]:
    with worker_set_on(
        request.param,
        stack,
        "reconcile",
        8,
        n_workers=1,
        COPYTRADE_RECONCILE_PERIOD_S="0.5",
        COPYTRADE_RECONCILE_IDLE_AFTER_S="1",
    ) as ws:
        yield ws


def test_signal_accepted_while_the_broker_was_down_is_dispatched_later(
    stack: Any, rig: WorkerSet
) -> None:
    flow = Flow(stack, rig.workers, services=rig.services)
    leader = flow.leader()
    _, address = flow.follower(leader)
    dead = Celery("dead", broker=f"redis://127.0.0.1:{free_port()}/0")
    dead.conf.broker_connection_retry = False
    dead.conf.task_publish_retry_policy = {"max_retries": 0}
    p = flow.payload(leader, collateral_usd="10", leverage=1)
    answer = Intake(flow.s.registry, flow.s.signals, CeleryDispatcher(dead)).submit(p).as_dict()
    assert (answer["status"], answer["dispatched"]) == ("accepted", False)
    flow.wait_done(p["signal_id"], timeout=30)
    (got,) = flow.q.intents(signal_id=p["signal_id"])
    assert got["state"] == "confirmed"
    assert flow.position(address).size_usd_1e6 == 10 * 10**6


def test_a_chain_lost_after_sizing_is_resumed_from_the_missing_step(
    stack: Any, rig: WorkerSet
) -> None:
    flow = Flow(stack, rig.workers, services=rig.services)
    s = flow.s
    leader = flow.leader()
    _, address = flow.follower(leader)
    nonce0 = s.chain.nonce(address, "pending")
    spec = parse_signal(flow.payload(leader, collateral_usd="10", leverage=1))
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    s.pipeline.size(pk)  # ... and then every message of the chain was lost
    flow.wait_done(spec.signal_id, timeout=30)
    (got,) = flow.q.intents(signal_id=spec.signal_id)
    assert got["state"] == "confirmed"
    assert got["nonce"] == nonce0  # the first nonce after the follower's own (gmx: set-up)
    assert len(flow.q.intent(got["id"])["attempts"]) == 1


def test_poison_intents_fail_before_a_nonce_and_a_second_reconciler_is_locked_out(
    stack: Any,
) -> None:
    from core.bootstrap import Services
    from tests.support.stacks import settings_with

    with fresh_database("ct_poison") as url:
        s = Services(settings_with({**stack.env, "COPYTRADE_DATABASE_URL": url}))
        flow = Flow(stack, services=s)
        leader = flow.leader()
        flow.follower(leader)
        spec = parse_signal(flow.payload(leader))
        _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
        s.pipeline.validate(pk)
        with s.db.tx() as conn:
            conn.execute(
                update(intents).values(tries=3, updated_at=text("now() - interval '1 hour'"))
            )
        store = ReconcileStore(s.db)
        with s.db.tx() as conn:  # another beat holds the round
            assert conn.execute(text(LOCK)).scalar()
            assert store.claim_round(1, 3, count_tries=True).locked_out
        round_ = store.claim_round(1, 3, count_tries=True)
        assert round_.poisoned == 1
        (got,) = flow.q.intents(signal_id=spec.signal_id)
        assert (got["state"], got["nonce"]) == ("failed", None)
        assert got["reason"].startswith("poison")
