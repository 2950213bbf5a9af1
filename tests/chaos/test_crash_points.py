"""Chaos: a batch of signals over several followers on real prefork workers; a worker
process is SIGKILLed at a named crash point while an intent is in flight. Afterwards every
signal is terminal, `verify` finds no breach, and the confirmed set equals a fault-free
control run of the same seed."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from tests.chaos.conftest import Batch, assert_verified, outcome, start_batch
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.pauses import Pause
from tests.support.stacks import WorkerSet, live_worker_set


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
    stack: Any, rig: WorkerSet, rig_control: Any, point: str
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
    assert outcome(flow, batch) == rig_control
    assert_verified(flow)


def test_every_task_delivered_twice_and_racing_changes_nothing(
    stack: Any, rig: WorkerSet, rig_control: Any
) -> None:
    flow = Flow(stack, rig.workers, services=rig.services)
    assert outcome(flow, start_batch(flow, dispatch_twice=True)) == rig_control
    assert_verified(flow)


def test_broker_restarted_empty_mid_run_loses_no_signal(stack: Any, control: Any) -> None:
    """The broker's queues vanish with in-flight chain messages; the workers reconnect and
    the reconciler re-enqueues what stopped short."""
    from tests.support import procs

    broker, url = procs.start_redis(stack.dir)
    try:
        with (
            fresh_database("ct_chaos_broker") as db_url,
            live_worker_set(stack, "chaos-broker", 0, db_url, broker_url=url + "/0") as ws,
        ):
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
        broker.stop()
