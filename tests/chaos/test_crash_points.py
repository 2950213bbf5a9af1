"""Chaos: a batch of signals over several followers on real prefork workers; a worker
process is SIGKILLed at a named crash point while an intent is in flight. Afterwards every
signal is terminal, `verify` finds no breach, and the confirmed set equals a fault-free
control run of the same seed."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from core.adapters.postgres.audit_queries import AuditQueries
from core.domain.types import Mode
from core.services.verify import verify
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.pauses import Pause
from tests.support.stacks import WorkerSet, start_worker_set

SIGNALS = (("open", "10"), ("increase", "5"), ("decrease", "4"))
SIZINGS = ("ratio:1", "ratio:0.5", "fixed-notional:3", "ratio:2")


@dataclass
class Batch:
    followers: list[tuple[int, str]]
    signal_ids: list[str]


@pytest.fixture(scope="module")
def rig(stack: Any) -> Iterator[WorkerSet]:
    with fresh_database("ct_chaos") as url:
        ws = start_worker_set(
            stack,
            "chaos",
            broker_db=9,
            COPYTRADE_DATABASE_URL=url,
            COPYTRADE_RECONCILE_PERIOD_S="1",
            COPYTRADE_RECONCILE_IDLE_AFTER_S="3",
        )
        ws.services.mode.request(Mode.LIVE, "pytest", "chaos")
        yield ws
        ws.stop()


def start_batch(flow: Flow, dispatch_twice: bool = False) -> Batch:
    leader = flow.leader()
    followers = [flow.follower(leader, sizing=s) for s in SIZINGS]
    ids = []
    for action, usd in SIGNALS:
        p = flow.payload(leader, action, collateral_usd=usd, leverage=2)
        answer = flow.submit(p)
        assert answer["status"] == "accepted"
        if dispatch_twice:  # every task of the chain delivered twice, racing on two workers
            flow.s.intake.dispatcher.dispatch(answer["signal_pk"])
        ids.append(p["signal_id"])
    return Batch(followers, ids)


def outcome(flow: Flow, batch: Batch) -> tuple[dict[tuple[int, int], Any], list[int]]:
    for sid in batch.signal_ids:
        flow.wait_done(sid, timeout=90)
    states = {}
    for si, sid in enumerate(batch.signal_ids):
        got = flow.intents(sid)
        for fi, (fid, _) in enumerate(batch.followers):
            states[(fi, si)] = (got[fid]["state"], got[fid]["notional_usd_1e6"])
    return states, [flow.position(a).size_usd_1e6 for _, a in batch.followers]


def assert_verified(flow: Flow) -> None:
    s = flow.s
    report = verify(
        AuditQueries(s.db), s.chain, s.settings.venue_address, s.settings.max_signal_age_s
    )
    assert report.breaches == []


@pytest.fixture(scope="module")
def control(stack: Any, rig: WorkerSet) -> tuple[dict[tuple[int, int], Any], list[int]]:
    flow = Flow(stack, rig.workers, services=rig.services)
    result = outcome(flow, start_batch(flow))
    assert {state for state, _ in result[0].values()} == {"confirmed"}
    return result


def in_flight_evidence(flow: Flow, batch: Batch, point: str) -> bool:
    rows = [r for sid in batch.signal_ids for r in flow.q.intents(signal_id=sid)]
    if point == "build.before_commit":
        return any(r["state"] == "created" for r in rows)  # signed only in the dead process
    signed = [r for r in rows if r["state"] == "signed"]
    if point == "build.after_commit":
        return any(r["tx_hash"] and not flow.s.chain.known([r["tx_hash"]]) for r in signed)
    return any(flow.s.chain.known([r["tx_hash"]]) for r in signed)  # node has it, rows don't


@pytest.mark.parametrize(
    "point",
    ["build.before_commit", "build.after_commit", "send.after_broadcast", "send.before_commit"],
)
def test_sigkill_at_a_crash_point_loses_nothing_and_sends_nothing_twice(
    stack: Any, rig: WorkerSet, control: Any, point: str
) -> None:
    flow = Flow(stack, rig.workers, services=rig.services)
    crash = Pause(stack.dir / "pause", point)
    crash.arm()
    try:
        batch = start_batch(flow)
        pid = crash.wait_reached(timeout=60)
        assert in_flight_evidence(flow, batch, point)  # the fault hit an intent in flight
        os.kill(pid, signal.SIGKILL)
    finally:
        crash.clear()
    assert outcome(flow, batch) == control
    assert_verified(flow)


def test_every_task_delivered_twice_and_racing_changes_nothing(
    stack: Any, rig: WorkerSet, control: Any
) -> None:
    flow = Flow(stack, rig.workers, services=rig.services)
    assert outcome(flow, start_batch(flow, dispatch_twice=True)) == control
    assert_verified(flow)


def test_broker_restarted_empty_mid_run_loses_no_signal(stack: Any, control: Any) -> None:
    """The broker's queues vanish with in-flight chain messages; the workers reconnect and
    the reconciler re-enqueues what stopped short."""
    from tests.support import procs

    broker, url = procs.start_redis(stack.dir)
    with fresh_database("ct_chaos_broker") as db_url:
        ws = start_worker_set(
            stack,
            "chaos-broker",
            broker_db=0,
            broker_url=url + "/0",
            COPYTRADE_DATABASE_URL=db_url,
            COPYTRADE_RECONCILE_PERIOD_S="1",
            COPYTRADE_RECONCILE_IDLE_AFTER_S="3",
        )
        try:
            ws.services.mode.request(Mode.LIVE, "pytest", "chaos")
            flow = Flow(stack, ws.workers, services=ws.services)
            crash = Pause(stack.dir / "pause", "build.after_commit")
            crash.arm()  # hold one chain in flight, then drop the broker under it
            try:
                batch = start_batch(flow)
                pid = crash.wait_reached(timeout=60)
                broker.kill()
                broker.restart()  # empty: it kept nothing on disk
                procs.wait_until(
                    lambda: procs.port_open(int(url.rsplit(":", 1)[1])), 10, "broker back"
                )
                os.kill(pid, signal.SIGKILL)
            finally:
                crash.clear()
            assert outcome(flow, batch) == control
            assert_verified(flow)
        finally:
            ws.stop()
            broker.stop()
