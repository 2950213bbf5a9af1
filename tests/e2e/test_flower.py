"""Flower (`celery -A config.celery_app flower`) against the test broker: basic auth from
settings, refused without credentials outside dev, our tasks listed with ids only."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import procs
from tests.support.flow import Flow
from tests.support.procs import http_get

AUTH = ("ops", "flower-test-password")
INTERNAL_ARGS = re.compile(r"\A(\(\d+,\)|\[\d+\]|\(\)|\[\])\Z")  # (42,) [42] () []


def start_flower(stack: Any, **env: str) -> tuple[procs.Proc, int]:
    port = procs.free_port()
    full = {k: v for k, v in stack.env.items() if not k.startswith("COPYTRADE_FLOWER")}
    p = procs.Proc(
        procs.celery_cmd("flower", f"--port={port}", "--address=127.0.0.1"),
        stack.dir / f"flower-{port}.log",
        env={**full, **env},
    )
    return p, port


@pytest.fixture
def flower(stack: Any, workers: Any) -> Iterator[int]:
    p, port = start_flower(stack, COPYTRADE_FLOWER_USER=AUTH[0], COPYTRADE_FLOWER_PASSWORD=AUTH[1])
    try:
        procs.wait_until(
            lambda: http_get(f"http://127.0.0.1:{port}/", AUTH)[0] == 200, 30, "flower"
        )
        # Flower serves pages before its event receiver is bound, and a task's events sent
        # before that never reach it: wait until it has heard a worker's heartbeat.
        procs.wait_until(lambda: any(workers_alive(port).values()), 30, "flower's events")
        yield port
    finally:
        p.stop()


def workers_alive(port: int) -> dict[str, bool]:
    """The workers Flower knows from their events (heartbeats), each alive or not."""
    status, body = http_get(f"http://127.0.0.1:{port}/api/workers?status=1", AUTH)
    assert status == 200, body.decode()
    alive: dict[str, bool] = json.loads(body)
    return alive


def test_flower_needs_credentials_and_lists_our_tasks_by_id(flower: int, flow: Flow) -> None:
    base = f"http://127.0.0.1:{flower}"
    assert http_get(base + "/")[0] == 401
    assert http_get(base + "/api/tasks")[0] == 401
    assert http_get(base + "/", ("ops", "wrong"))[0] == 401
    leader = flow.leader()
    flow.follower(leader)
    p = flow.payload(leader, collateral_usd="5", leverage=2)
    pk = flow.submit(p)["signal_pk"]
    flow.wait_done(p["signal_id"])
    steps = {"copytrade.validate", "copytrade.size", "copytrade.check_mode"}
    steps |= {"copytrade.build_tx", "copytrade.send"}

    def seen() -> dict[str, Any]:
        _, body = http_get(base + "/api/tasks?limit=5000", AUTH)
        tasks: dict[str, Any] = json.loads(body)
        return tasks

    of_signal = (f"({pk},)", f"[{pk}]")  # the chain's first task has a tuple, the rest a list
    procs.wait_until(
        lambda: steps <= {t["name"] for t in seen().values() if t.get("args") in of_signal},
        30,
        "the chain's tasks in Flower",
    )
    tasks = seen()
    ours = [t for t in tasks.values() if (t.get("name") or "").startswith("copytrade.")]
    internal = [t for t in ours if t["name"] != "copytrade.submit_signal"]
    assert internal
    for t in internal:
        assert INTERNAL_ARGS.match(t["args"] or "()"), t
        assert t["kwargs"] in ("{}", None), t


def test_flower_refuses_to_start_without_credentials(stack: Any) -> None:
    env = {k: v for k, v in stack.env.items() if not k.startswith("COPYTRADE_FLOWER")}
    out = subprocess.run(
        procs.celery_cmd("flower", f"--port={procs.free_port()}"),
        env={**env, "COPYTRADE_DEPLOYMENT": "production"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    assert "Flower refuses to start without COPYTRADE_FLOWER_USER" in out.stderr


def test_flower_runs_open_only_in_dev(stack: Any) -> None:
    p, port = start_flower(stack, COPYTRADE_DEPLOYMENT="dev")
    try:
        procs.wait_until(lambda: http_get(f"http://127.0.0.1:{port}/")[0] == 200, 30, "open flower")
    finally:
        p.stop()
