"""A broker that hangs (its Redis SIGSTOPped: the connection stays open, nothing answers)
never holds an intake: the publish gives up after COPYTRADE_BROKER_PUBLISH_TIMEOUT_S a
try, the answer is `accepted, dispatched: false` with the row committed, and the
reconciler dispatches it once the broker answers again."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from core.bootstrap import Services
from tests.support import procs
from tests.support.chain import random_address
from tests.support.databases import fresh_database
from tests.support.stacks import settings_with

# A hung publish without the bound waits for ever; with it, 4 tries of 1 s and 0.7 s of
# intervals. The join leaves a loaded machine room and still catches the unbounded wait.
JOIN_S = 30


def test_an_intake_answers_accepted_undispatched_while_the_broker_hangs(stack: Any) -> None:
    broker, url = procs.start_redis(stack.dir)
    try:
        with fresh_database("ct_hung_broker") as db_url:
            s = Services(
                settings_with(
                    {
                        **stack.env,
                        "COPYTRADE_DATABASE_URL": db_url,
                        "COPYTRADE_BROKER_URL": url + "/0",
                        "COPYTRADE_BROKER_PUBLISH_TIMEOUT_S": "1",
                    }
                )
            )
            leader = random_address()
            s.registry.add_leader(leader, "pytest")
            payload = {
                "schema": 1,
                "signal_id": "hung-1",
                "leader": leader,
                "action": "open",
                "asset": "BTC",
                "side": "long",
                "collateral_usd_1e6": 10_000_000,
                "leverage_x": 2,
                "issued_at": int(time.time()),
            }
            warm = s.intake.submit({**payload, "signal_id": "hung-0"}, source="test")
            assert warm.dispatched
            os.kill(broker.popen.pid, signal.SIGSTOP)
            answers: list[Any] = []
            try:
                t = threading.Thread(
                    target=lambda: answers.append(s.intake.submit(payload, source="test")),
                    daemon=True,
                )
                t.start()
                t.join(JOIN_S)
                assert answers, f"the intake still waits for the hung broker after {JOIN_S} s"
            finally:
                os.kill(broker.popen.pid, signal.SIGCONT)
            (answer,) = answers
            assert (answer.status, answer.dispatched) == ("accepted", False)
            assert answer.signal_pk is not None
            assert s.signals.signal(answer.signal_pk).state == "accepted"  # the row is the record
    finally:
        broker.stop()
