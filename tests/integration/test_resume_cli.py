"""`copytrade resume` says what is queued and where: the waiting signals it re-enqueued, the
intents (of how many signals) still to send, and the broker's queue depths — or that the
broker is unreachable, without failing the resume."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.bootstrap import Services
from core.domain.signals import parse_signal
from core.domain.types import Mode
from tests.support import procs
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import settings_with


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        procs.copytrade_cmd(*args), env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def held(stack: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Two followers of one leader, two signals: the first sized (2 intents created, what a
    stop holds), the second behind it at the sequence gate (2 pending); the stop on. Its
    own broker, so that the queue depths are this test's alone."""
    redis, broker = procs.start_redis(tmp_path)
    try:
        with fresh_database("ct_resume") as url:
            env = {
                **stack.env,
                "COPYTRADE_DATABASE_URL": url,
                "COPYTRADE_BROKER_URL": broker + "/0",
            }
            s = Services(settings_with(env))
            s.mode.request(Mode.LIVE, "pytest", "resume report")
            flow = Flow(stack, services=s)
            leader = flow.leader()
            for _ in range(2):
                flow.follower(leader)
            lid = s.registry.leader_id(leader)
            assert lid is not None
            first, second = (
                s.signals.insert_signal(parse_signal(flow.payload(leader, leverage=1)), lid, "t")[1]
                for _ in range(2)
            )
            for pk, sized in ((first, (2, 0)), (second, (0, 2))):
                s.pipeline.validate(pk)
                assert s.pipeline.size(pk) == sized
            assert _cli(env, "stop", "--reason", "drill").returncode == 0
            try:
                yield env
            finally:
                s.db.dispose()
    finally:
        redis.stop()


def test_resume_says_what_it_re_enqueued_what_is_still_to_send_and_the_queue_depths(
    held: dict[str, str],
) -> None:
    out = _cli(held, "resume", "--reason", "drill over")
    assert out.returncode == 0, out.stderr
    assert " ".join(out.stdout.split()) == (
        "resumed; re-enqueued 1 waiting signal; 4 intents of 2 signals still to send "
        "(2 pending, 2 created); broker queues: execution 1, intake 0, notify 0, watch 0 messages"
    )
    assert json.loads(_cli(held, "status", "--json").stdout)["emergency_stop"] is False


def test_resume_json_gives_the_same_figures(held: dict[str, str]) -> None:
    out = _cli(held, "resume", "--reason", "drill over", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "resumed": True,
        "waiting_signals": 1,
        "re_enqueued": 1,
        "to_send": {"intents": 4, "signals": 2, "by_state": {"pending": 2, "created": 2}},
        "in_flight": {"intents": 0, "by_state": {}},
        "queues": {"execution": 1, "intake": 0, "notify": 0, "watch": 0},
    }


def test_resume_with_the_broker_unreachable_lifts_the_stop_and_says_so(
    held: dict[str, str],
) -> None:
    gone = {**held, "COPYTRADE_BROKER_URL": f"redis://127.0.0.1:{procs.free_port()}/0"}
    out = _cli(gone, "resume", "--reason", "drill over")
    assert out.returncode == 0, out.stderr
    line = " ".join(out.stdout.split())
    assert line.startswith(
        "resumed; re-enqueued 0 of 1 waiting signal (the broker refused: the reconciler "
        "re-enqueues it once the broker is back); 4 intents of 2 signals still to send "
        "(2 pending, 2 created); broker unreachable: "
    ), line
    assert "Traceback" not in out.stderr
    assert json.loads(_cli(gone, "status", "--json").stdout)["emergency_stop"] is False
    data = json.loads(_cli(gone, "resume", "--reason", "again", "--json").stdout)
    assert (data["re_enqueued"], data["waiting_signals"]) == (0, 1)
    assert data["queues"].startswith("unknown: ")
