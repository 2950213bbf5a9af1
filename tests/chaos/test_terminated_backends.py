"""A storm of `pg_terminate_backend` on the workers' busy sessions while signals run: every
step is retried by its own task (a TransientError), none is left to the reconciler as an
unexpected error, and every signal ends confirmed.

Before the fix a transaction whose connection was invalidated under it raised
PendingRollbackError from its clean-up, which hid the OperationalError: the worker logged
"raised unexpected" and only the reconciler picked the chain up, up to ~40 s later."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import create_engine, text

from core.bootstrap import Services
from tests.support.databases import PG_ADMIN, fresh_database
from tests.support.flow import Flow
from tests.support.stacks import live_worker_set, settings_with

WORKER_APP = "ct-chaos-worker"


def test_backends_terminated_mid_chain_every_step_retried_by_its_own_task(stack: Any) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with (
        fresh_database("ct_term") as url,
        live_worker_set(
            stack,
            "term",
            3,
            url,
            COPYTRADE_DB_APPLICATION_NAME=WORKER_APP,
            COPYTRADE_RECONCILE_PERIOD_S="600",  # recovery must not be the reconciler's
        ) as ws,
    ):
        own = Services(settings_with({**ws.env, "COPYTRADE_DB_APPLICATION_NAME": "pytest"}))
        flow = Flow(stack, ws.workers, services=own)
        leader = flow.leader()
        for _ in range(3):
            flow.follower(leader)
        db = url.rsplit("/", 1)[1]
        killed: list[int] = []
        done = threading.Event()

        def storm() -> None:
            with admin.connect() as c:
                while not done.wait(0.005):
                    killed.append(
                        c.execute(
                            text(
                                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = :db AND application_name = :app "
                                "AND state <> 'idle'"
                            ),
                            {"db": db, "app": WORKER_APP},
                        ).scalar_one()
                    )

        killer = threading.Thread(target=storm, daemon=True)
        killer.start()
        signals = []
        try:
            for _ in range(6):
                p = flow.payload(leader, collateral_usd="10", leverage=1)
                flow.submit(p)
                signals.append(p["signal_id"])
                time.sleep(0.4)
            time.sleep(2)
        finally:
            done.set()
            killer.join(10)
        for sid in signals:
            flow.wait_done(sid, timeout=90)
        logs = "".join(w.text() for w in ws.workers)
        assert sum(killed) > 0
        assert "server closed the connection" in logs or "terminating connection" in logs
        assert "raised unexpected" not in logs
        states = {i["state"] for sid in signals for i in flow.q.intents(signal_id=sid)}
        assert states == {"confirmed"}
    admin.dispose()
