"""A worker killed whole (its main process and its pool, so nothing rejects the message it
held) and started again: the message it held goes back on its queue as the new worker
starts, and the signal finishes from the step it was in — without waiting for the broker's
visibility timeout or the reconciler (both set out of reach here) — with one order per
follower on chain."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.services.verify import verify
from tests.support import procs
from tests.support.flow import Flow
from tests.support.pauses import Pause
from tests.support.stacks import WorkerSet
from tests.support.venues import worker_set_on

# The reconciler never finds the chain stopped within the test.
NO_RECONCILER = {"COPYTRADE_RECONCILE_PERIOD_S": "3600", "COPYTRADE_RECONCILE_IDLE_AFTER_S": "3600"}


@pytest.fixture(params=["2", "8"], ids=["replacement-after-min-age", "replacement-before-min-age"])
def rig(stack: Any, request: pytest.FixtureRequest) -> Iterator[WorkerSet]:
    # At 8 s the replacement is up well within the age a message needs before it counts as
    # lost: the restarted worker's first round finds it too young, its second restores it.
    env = {"COPYTRADE_REDELIVER_MIN_AGE_S": request.param, **NO_RECONCILER}
    with worker_set_on("simple", stack, "lostworker", 30, n_workers=1, **env) as ws:
        yield ws


def test_a_worker_killed_whole_mid_step_has_its_message_restored_when_one_starts(
    stack: Any, rig: WorkerSet
) -> None:
    flow, p, worker, followers = killed_in_size(stack, rig)
    worker.restart()
    flow.wait_done(p["signal_id"], timeout=60)
    each_follower_filled_once(flow, p, followers)
    assert "restored: no live worker holds it" in worker.text()
    if rig.env["COPYTRADE_REDELIVER_MIN_AGE_S"] == "8":
        # Too young for the restarted worker's first round (which may restore others the
        # killed worker held, such as its own countdown round): its second round restores it.
        since_restart = worker.text().rsplit(" ready.", 1)[-1]
        first_round = re.search(r"copytrade\.redeliver\[[0-9a-f-]+\] succeeded", since_restart)
        assert first_round is not None
        assert since_restart.index("message of copytrade.size") > first_round.start()


def killed_in_size(stack: Any, ws: WorkerSet) -> tuple[Flow, dict[str, Any], Any, list[Any]]:
    """A signal for two followers whose only worker is killed whole while it sizes them."""
    flow = Flow(stack, ws.workers, services=ws.services)
    leader = flow.leader()
    followers = [flow.follower(leader) for _ in range(2)]
    held = Pause(stack.dir / "pause", "size.before_commit")
    held.arm()
    try:
        p = flow.payload(leader, collateral_usd="10", leverage=1)
        assert flow.submit(p)["status"] == "accepted"
        held.wait_reached(timeout=30)
        (worker,) = ws.workers
        worker.kill()  # the whole process group: no reject_on_worker_lost, no ack
    finally:
        held.clear()
    assert {i["state"] for i in flow.intents(p["signal_id"]).values()} == {"pending"}
    return flow, p, worker, followers


def each_follower_filled_once(flow: Flow, p: dict[str, Any], followers: list[Any]) -> None:
    got = flow.intents(p["signal_id"])
    assert sorted(i["state"] for i in got.values()) == ["confirmed", "confirmed"]
    for _, address in followers:
        assert flow.position(address).size_usd_1e6 == 10 * 10**6
    s = flow.s
    report = verify(s.audit_queries, s.chain, s.venue, 120)
    assert report.breaches == []  # one order per client order id, every nonce ours


@pytest.fixture
def pair(stack: Any) -> Iterator[WorkerSet]:
    with worker_set_on("simple", stack, "lostpair", 31, n_workers=2, **NO_RECONCILER) as ws:
        yield ws


def test_a_message_a_live_worker_holds_is_left_alone_when_another_worker_starts(
    stack: Any, pair: WorkerSet
) -> None:
    flow = Flow(stack, pair.workers, services=pair.services)
    leader = flow.leader()
    _, address = flow.follower(leader)
    held = Pause(stack.dir / "pause", "size.before_commit")
    held.arm()
    try:
        p = flow.payload(leader, collateral_usd="10", leverage=1)
        assert flow.submit(p)["status"] == "accepted"
        pid = held.wait_reached(timeout=30)
        holder = next(w for w in pair.workers if pid in descendants(w.pid))
        other = next(w for w in pair.workers if w is not holder)
        (size_task,) = received(holder.text(), "copytrade.size")
        # The held message is old enough to restore.
        time.sleep(pair.services.settings.redeliver_min_age_s + 0.5)
        before = len(redeliveries(logs(pair)))
        other.kill()
        # What the killed worker had taken (beat's rounds, say) is lost with it: restoring
        # that is the point. The live worker's message is not.
        lost = set(received(other.text()))
        other.restart()
        procs.wait_until(
            lambda: len(redeliveries(logs(pair))) >= before + 2, 60, "the new worker's rounds"
        )
    finally:
        held.release()
        held.clear()
    assert size_task not in restored(logs(pair))
    assert restored(logs(pair)) <= lost
    flow.wait_done(p["signal_id"], timeout=60)
    (got,) = flow.intents(p["signal_id"]).values()
    assert got["state"] == "confirmed"
    assert flow.position(address).size_usd_1e6 == 10 * 10**6
    s = flow.s
    assert verify(s.audit_queries, s.chain, s.venue, 120).breaches == []
    assert size_task not in restored(logs(pair))
    assert received(logs(pair), "copytrade.size") == [size_task]  # run once, by its holder


def logs(ws: WorkerSet) -> str:
    return "".join(w.text() for w in ws.workers)


def redeliveries(log: str) -> list[str]:
    """The results of the redeliver rounds in a worker log, oldest first."""
    done = [x for x in log.splitlines() if "copytrade.redeliver[" in x and "succeeded" in x]
    return [x.split(": ", 2)[-1].strip() for x in sorted(done)]


def received(log: str, task: str = "copytrade.") -> list[str]:
    """Ids of the tasks named `task...` a worker log says it received, oldest first."""
    return re.findall(rf"Task {re.escape(task)}[\w.]*\[([0-9a-f-]+)\] received", log)


def restored(log: str) -> set[str]:
    """Ids of the tasks whose messages a redeliver round restored."""
    return set(re.findall(r"\(task ([0-9a-f-]+)\) restored", log))


def descendants(pid: int) -> set[int]:
    out = set()
    for t in Path(f"/proc/{pid}/task").iterdir():
        for k in (t / "children").read_text().split():
            out |= {int(k), *descendants(int(k))}
    return out
