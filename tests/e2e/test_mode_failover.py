"""Under a steady signal load on two prefork workers: the mode store (its own redis-server,
separate from the broker) or the heartbeat process is killed by PID. No broadcast within
two health periods after the fault, none until three fresh heartbeats after recovery, and
every signal still ends confirmed (waiting, not dropped)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.adapters.postgres.tables import attempts, intents
from tests.support import procs
from tests.support.chain import orders_by_client_id
from tests.support.flow import Flow
from tests.support.stacks import WorkerSet, start_worker_set

PERIOD = 0.5  # COPYTRADE_HEALTH_PERIOD_S in the test stack


@pytest.fixture
def rig(stack: Any, session_dir: Any) -> Iterator[tuple[WorkerSet, procs.Proc, str]]:
    mode_redis, url = procs.start_redis(session_dir)
    try:
        ws = start_worker_set(
            stack, "failover", broker_db=5, heartbeat=True, COPYTRADE_MODE_REDIS_URL=url + "/0"
        )
        try:
            yield ws, mode_redis, url
        finally:
            ws.stop()
    finally:
        mode_redis.stop()


def broadcasts(flow: Flow, follower_ids: list[int]) -> list[tuple[datetime, str]]:
    with flow.s.db.tx() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(attempts.c.broadcast_at, attempts.c.sent_by)
                .select_from(attempts.join(intents))
                .where(
                    intents.c.follower_id.in_(follower_ids), attempts.c.broadcast_at.is_not(None)
                )
            )
        ]


def db_now(flow: Flow) -> datetime:
    with flow.s.db.tx() as conn:
        return conn.exec_driver_sql("SELECT clock_timestamp()").scalar_one()


@pytest.mark.parametrize("fault", ["heartbeat_killed"])  # the store: tests/e2e/test_drills.py
def test_no_broadcast_while_unsafe_and_none_lost(stack: Any, rig: Any, fault: str) -> None:
    ws, mode_redis, url = rig
    flow = Flow(stack, ws.workers, services=ws.services)
    procs.wait_until(lambda: flow.s.mode.verdict().live, 10, "LIVE")
    leaders = [flow.leader() for _ in range(2)]
    followers = {ld: [flow.follower(ld) for _ in range(2)] for ld in leaders}
    fids = [f for fs in followers.values() for f, _ in fs]
    submitted: list[str] = []
    stop_load = threading.Event()

    def load() -> None:
        i = 0
        while not stop_load.is_set():
            p = flow.payload(leaders[i % 2], "open", collateral_usd="1", leverage=1)
            assert flow.submit(p)["status"] == "accepted"
            submitted.append(p["signal_id"])
            i += 1
            stop_load.wait(0.25)

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    try:
        procs.wait_until(lambda: len(broadcasts(flow, fids)) >= 4, 30, "broadcasts before")
        heart = next(p for p in ws.others if "heartbeat" in str(p.log_path))
        if fault == "mode_store_killed":
            mode_redis.kill()
        else:
            heart.kill()
        t_fault = db_now(flow)
        time.sleep(6 * PERIOD)
        if fault == "mode_store_killed":
            mode_redis.restart()  # empty: it kept nothing on disk
        else:
            ws.others.append(procs.start_heartbeat(ws.dir, ws.env, "again"))
        t_back = db_now(flow)
        procs.wait_until(
            lambda: any(b > t_back for b, _ in broadcasts(flow, fids)),
            30,
            "broadcasts after recovery",
        )
    finally:
        stop_load.set()
        loader.join(5)
    for sid in submitted:
        flow.wait_done(sid, timeout=60)
    sent = broadcasts(flow, fids)
    grace = timedelta(seconds=2 * PERIOD)
    before = [b for b, _ in sent if b < t_fault]
    during = [b for b, _ in sent if t_fault + grace < b < t_back]
    after = sorted(b for b, _ in sent if b > t_back)
    assert len(before) > 0
    assert during == []
    assert after
    assert after[0] >= t_back + timedelta(seconds=PERIOD)  # three fresh heartbeats first
    assert len({who for _, who in sent}) >= 2  # more than one worker process broadcast
    states = {i["state"] for sid in submitted for i in flow.q.intents(signal_id=sid)}
    assert states == {"confirmed"}
    # The chain agrees with the attempts: one Order per broadcast, none outside them.
    keys = {i["idempotency_key"] for sid in submitted for i in flow.q.intents(signal_id=sid)}
    on_chain = orders_by_client_id(flow.s.chain, flow.stack.venue)
    assert sum(on_chain.get(k, 0) for k in keys) == len(sent) == len(keys)
