"""The Go/No-Go drills in their default local form: a throwaway stack (embedded
PostgreSQL, a broker Redis, a mode-store Redis of its own or the broker's, anvil), two
prefork workers, beat, heartbeat and a steady signal load; each fault injected by PID.
Every drill's own checks must pass — no broadcast while unsafe, LIVE only after three fresh
heartbeats, nothing lost, `verify` clean — and the figures it reports are checked here."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.drills.base import Ctx, Report
from core.drills.local import LocalStack
from core.drills.run import run_one
from tests.support import procs


def start(directory: Path, same_redis: bool, venue: str = "simple") -> Iterator[Ctx]:
    stack = LocalStack(directory, same_redis=same_redis, venue=venue)
    try:
        yield Ctx(stack.start(), stack, 60, lambda _: None)
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def separate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    yield from start(tmp_path_factory.mktemp("drill-separate"), same_redis=False)


@pytest.fixture(scope="module")
def separate_gmx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    yield from start(tmp_path_factory.mktemp("drill-gmx"), same_redis=False, venue="gmx")


@pytest.fixture(params=["simple", "gmx"])
def on_venue(request: pytest.FixtureRequest) -> Ctx:
    """The separate-store stack on the simple router, or on the local GMX venue."""
    name = "separate" if request.param == "simple" else "separate_gmx"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def same(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    yield from start(tmp_path_factory.mktemp("drill-same"), same_redis=True)


def passed(r: Report) -> Report:
    assert [c for c, ok in r.checks if not ok] == [], r.as_dict()
    assert r.ok
    return r


def assert_mode_figures(r: Report, period: float) -> None:
    f = r.figures
    assert f["broadcasts_before"] > 0
    assert f["broadcasts_during"] == 0
    assert f["broadcasts_after"] > 0
    assert f["time_to_dry_s"] <= 2 * period + 0.25
    assert f["time_back_to_live_s"] >= period
    assert f["streak_at_first_live"] >= 3


@pytest.mark.parametrize("fault", ["kill", "hang", "flush", "restart-empty"])
def test_redis_failover_separate_mode_store(separate: Ctx, fault: str) -> None:
    r = passed(run_one(separate, "redis-failover", fault))
    assert_mode_figures(r, separate.period)
    if fault == "hang":  # reads time out fast: the verdict came back DRY, not blocked
        assert r.figures["first_reason"] == "mode_store_unreadable"


def test_redis_recovery_from_a_backup_with_an_old_streak(separate: Ctx) -> None:
    r = passed(run_one(separate, "redis-recovery"))
    assert_mode_figures(r, separate.period)
    assert r.figures["first_reason"] in ("heartbeat_stale", "streak_below_3")


@pytest.mark.parametrize("fault", ["kill", "hang"])
def test_redis_failover_mode_store_on_the_broker(same: Ctx, fault: str) -> None:
    r = passed(run_one(same, "redis-failover", fault))
    assert_mode_figures(r, same.period)


def test_emergency_stop_under_load(on_venue: Ctx) -> None:
    r = passed(run_one(on_venue, "emergency-stop"))
    f = r.figures
    assert f["broadcasts_before"] > 0
    assert f["broadcasts_during"] == 0
    assert f["broadcasts_after"] > 0
    assert f["held_then_sent_with_same_bytes"] == f["signed_and_held"]
    assert f["signed_and_held"] + f["waiting_unsigned"] > 0  # the stop held real work
    assert f["windows_held"] >= 4  # overlapping windows were open all through the stop
    assert f["flag_seen_while_waiting"] is True


def test_stuck_tx_is_replaced_and_the_replacement_mined(on_venue: Ctx) -> None:
    r = passed(run_one(on_venue, "stuck-tx"))
    assert Decimal(r.figures["fee_bump"]) >= Decimal("1.125")
    assert r.figures["attempts"] >= 2


def test_duplicate_signal_lands_one_order_per_follower(on_venue: Ctx) -> None:
    assert on_venue.stack is not None
    r = passed(run_one(on_venue, "duplicate-signal"))
    assert r.figures["answers"] == {"accepted": 1, "duplicate": 7}
    assert r.figures["orders_on_chain"] == len(on_venue.stack.followers)


def test_observe_judges_a_fault_the_operator_induces(same: Ctx) -> None:
    """--observe on a running deployment: the "operator" here is a thread killing the mode
    store and starting it again; the drill only watches."""
    assert same.stack is not None
    stack = same.stack

    def operator() -> None:
        time.sleep(1)
        stack.kill_mode_store()
        time.sleep(2)
        stack.restart_mode_store()

    t = threading.Thread(target=operator)
    t.start()
    r = run_one(Ctx(same.s, None, 30, lambda _: None), "redis-failover")
    t.join()
    passed(r)
    assert r.where == "observe"
    assert r.figures["broadcasts_during"] == 0


def test_cli_runs_a_local_drill_and_gates_on_failure(stack: Any) -> None:
    ok = subprocess.run(
        procs.copytrade_cmd("drill", "duplicate-signal", "--json"),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=procs.ROOT,
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
    (report,) = json.loads(ok.stdout)
    assert (report["drill"], report["ok"]) == ("duplicate-signal", True)
    # Observing the session deployment while nobody induces a fault: NO-GO, exit 1.
    nogo = subprocess.run(
        procs.copytrade_cmd("drill", "redis-failover", "--observe", "--timeout", "1"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=procs.ROOT,
        env=stack.env,
    )
    assert nogo.returncode == 1
    assert "NO-GO" in nogo.stdout
    bad = subprocess.run(
        procs.copytrade_cmd("drill", "stuck-tx", "--venue", "gmxx"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=procs.ROOT,
    )
    assert bad.returncode == 2
    assert "simple | gmx" in bad.stderr
    assert "timed out waiting for the effective mode to turn DRY" in nogo.stdout
