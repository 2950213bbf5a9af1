"""`copytrade demo` on the embedded stack: positions on chain, back-to-back runs, Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from tests.support.procs import ROOT

USD = 10**6
# Personas after "open BTC 5 USD x2" and "open ETH 2 USD x2" under the canary profile.
EXPECTED = {
    "copier": (10 * USD, 4 * USD),
    "subaccount": (10 * USD, 4 * USD),  # GMX: the wallet's positions (a plain copier on simple)
    "half-size": (5 * USD, 2 * USD),
    "fixed-4usd": (4 * USD, 4 * USD),
    "at-limit": (10 * USD, 4 * USD),
    "one-unit-over": (0, 4 * USD),
    "low-leverage": (0, 0),
    "eth-only": (0, 4 * USD),
    "paused": (0, 0),
    "outside-cohort": (0, 0),
    "oversized": (0, 6 * USD),
}
# The 12th persona tolerates 0.1 % slippage: on the GMX venue the demo's keeper fills
# 0.3 % worse, so the venue cancels both its requests; the simple venue fills at the price.
TIGHT = {"gmx": (0, 0), "simple": (10 * USD, 4 * USD)}
DEMO = [sys.executable, "-m", "core.cli", "demo"]


def leftovers(workdir: str) -> list[int]:
    """PIDs of processes that still mention the demo's directory."""
    found = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            if any(workdir in part for part in p.info["cmdline"] or []):
                found.append(p.info["pid"])
        except psutil.Error:
            continue
    return found


def run_demo(venue: str) -> tuple[dict, str]:
    out = subprocess.run(
        [*DEMO, "--followers", "12", "--signals", "2", "--venue", venue, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    workdir = re.search(r"working in (\S+)", out.stderr)
    assert workdir is not None
    return json.loads(out.stdout), workdir.group(1)


def test_demo_lands_the_hand_computed_positions_twice_in_a_row_and_leaves_nothing() -> None:
    # The second run right after the first: no leftover port or socket; one on each venue.
    for venue in ("gmx", "simple"):
        report, workdir = run_demo(venue)
        assert report["ok"] is True
        got = {
            f["persona"]: (f["positions_usd_1e6"]["BTC"], f["positions_usd_1e6"]["ETH"])
            for f in report["followers"]
        }
        assert got == {**EXPECTED, "tight-slippage": TIGHT[venue]}
        outcomes = {
            f["persona"]: [i["reason"] or i["state"] for i in f["intents"]]
            for f in report["followers"]
        }
        assert outcomes["one-unit-over"][0] == "max_position"
        assert outcomes["at-limit"][0] == "confirmed"
        assert outcomes["low-leverage"][0] == "max_leverage"
        assert outcomes["eth-only"][0] == "asset_not_allowed"
        assert outcomes["paused"][0] == "paused"
        assert outcomes["outside-cohort"] == ["dry_run", "dry_run"]
        assert outcomes["oversized"][0] == "profile_max_order_notional"
        assert outcomes["subaccount"] == ["confirmed", "confirmed"]
        told = {n["persona"]: n["messages"] for n in report["notifications"]}
        assert told["copier"][0].startswith("Copied: open BTC long, 10 USD")
        assert told["paused"] == [
            "Not copied: open BTC long — your copying is paused",
            "Not copied: open ETH long — your copying is paused",
        ]
        assert told.pop("outside-cohort") == []  # DRY runs are not reported
        assert {p: len(m) for p, m in told.items() if len(m) != 2} == {}  # one a signal each
        if venue == "gmx":  # requested -> executed (fill price) -> confirmed, or cancelled
            assert outcomes["tight-slippage"][0].startswith(
                "venue_cancelled: OrderNotFulfillableAtAcceptablePrice"
            )
            sub = next(f for f in report["followers"] if f["persona"] == "subaccount")
            assert sub["subaccount_of"] == sub["address"]  # the positions read are the wallet's
            copier = next(f for f in report["followers"] if f["persona"] == "copier")
            assert [i["fill_price_usd_1e6"] for i in copier["intents"]] == [
                100_300 * USD,  # 100,000 moved 0.3 % against a long's buy
                3_009 * USD,
            ]
        assert report["status"]["effective_mode"] == "live"
        assert not Path(workdir).exists()
        assert leftovers(workdir) == []


def test_interrupting_the_demo_stops_every_process_it_started() -> None:
    # A long run (50 signals in sequence) so that the interrupt lands mid-job.
    proc = subprocess.Popen(
        [*DEMO, "--followers", "10", "--signals", "50"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = ""
    workdir = ""
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while "effective mode LIVE" not in seen and time.monotonic() < deadline:
        seen += proc.stdout.readline()
        m = re.search(r"working in (\S+)", seen)
        workdir = m.group(1) if m else workdir
    assert "effective mode LIVE" in seen
    started = {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
    proc.send_signal(signal.SIGINT)
    assert len(started) >= 5  # redis, anvil, heartbeat, two workers (+ their children), beat
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, rest[-3000:]
    assert "interrupted" in rest
    time.sleep(0.5)
    alive = [p for p in started if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert alive == []
    assert leftovers(workdir) == []
    assert not Path(workdir).exists()
