"""PostgreSQL (a private pgserver instance, stopped and started again) goes away while a
chain is in flight: nothing is broadcast without the stop flag being readable, tasks back
off and resume, and the outcome equals the control run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from core.adapters.postgres.migrate import upgrade
from tests.chaos.conftest import assert_verified, outcome, signed_rows, start_batch
from tests.support import procs
from tests.support.flow import Flow
from tests.support.pauses import Pause
from tests.support.stacks import live_worker_set

DOWN_S = 10


def restart(srv: Any) -> None:
    """Start the private PostgreSQL again. pgserver's `pg_ctl -w` gives up after 10 s,
    which a loaded machine can exceed while the server is still starting: ask again (it
    then finds the postmaster running) rather than fail the scenario on the harness."""
    for attempt in range(3):
        try:
            srv.ensure_postgres_running()
            return
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            if attempt == 2:
                raise
            time.sleep(2)


def test_postgres_down_mid_run_loses_nothing_and_sends_nothing_unchecked(
    stack: Any, control: Any
) -> None:
    # Outside pytest's own temporary tree: another pytest session starting on the machine
    # makes /tmp/pytest-of-<user> private again, and PostgreSQL's own user (pgserver runs it
    # as `pgserver` under root) then cannot reach its data directory to start again.
    base = Path(tempfile.mkdtemp(prefix="copytrade-pg-outage-"))
    base.chmod(0o700)  # a runtime dir must be private, or platformdirs ignores it
    saved = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(base)  # pgserver's lock file stays in our directory
    import pgserver

    srv = pgserver.get_server(base / "pg", cleanup_mode="stop")
    try:
        srv.psql("CREATE DATABASE copytrade;")
        host = srv.get_uri().split("host=", 1)[1]
        url = f"postgresql+psycopg2://postgres@/copytrade?host={host}"
        upgrade(url)
        with live_worker_set(stack, "chaos-pg", 10, url) as ws:
            flow = Flow(stack, ws.workers, services=ws.services)
            hold = Pause(stack.dir / "pause", "send.before_window")
            hold.arm()
            try:
                batch = start_batch(flow)
                hold.wait_reached(timeout=60)  # a batch signed and about to be broadcast
                signed = signed_rows(flow, batch)
                assert signed  # in flight when the database goes away
                postmaster = srv.get_pid()
                os.kill(postmaster, signal.SIGINT)  # fast shutdown
                procs.wait_until(lambda: not psutil.pid_exists(postmaster), 20, "PostgreSQL down")
                hold.release()  # the worker reaches the broadcast window with no database
                time.sleep(DOWN_S)
                assert not any(flow.s.chain.known([r["tx_hash"]]) for r in signed)
            finally:
                hold.clear()
                restart(srv)
            assert outcome(flow, batch) == control
            assert_verified(flow)
    finally:
        srv.cleanup()
        shutil.rmtree(base, ignore_errors=True)
        if saved is None:
            os.environ.pop("XDG_RUNTIME_DIR", None)
        else:
            os.environ["XDG_RUNTIME_DIR"] = saved
