"""COPYTRADE_LOG_FORMAT=json on real prefork workers: the log stream (stderr) is one JSON
object per line — Python warnings included — with Celery's banner alone on stdout; every
line written while a task of a signal's chain runs carries that signal's id and pk and the
task's id (Celery's own "succeeded" lines included)."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import live_worker_set

STEPS = ("copytrade.validate", "copytrade.size", "copytrade.check_mode")
STEPS += ("copytrade.build_tx", "copytrade.send")
TEXT_LOG = re.compile(r"^\[\d{4}-\d\d-\d\d [\d:,]+: [A-Z]+/")  # Celery's text format


def test_every_line_of_a_signal_carries_its_id(stack: Any) -> None:
    with (
        fresh_database("ct_logs") as url,
        live_worker_set(stack, "jsonlogs", 14, url, n_workers=1, COPYTRADE_LOG_FORMAT="json") as ws,
    ):
        flow = Flow(stack, ws.workers, ws.services)
        leader = flow.leader()
        flow.follower(leader)
        poor, _ = flow.follower(leader, eth=0)  # rejected at build: a warning of the chain
        p = flow.payload(leader, collateral_usd="5", leverage=2)
        flow.run_task("copytrade.submit_signal", p, timeout=60)
        flow.wait_done(p["signal_id"], timeout=90)
        pk = flow.q.signal(p["signal_id"])["id"]
        poor_intent = flow.intents(p["signal_id"])[poor]["id"]
        text = ws.workers[0].err_text()
        banner = ws.workers[0].log_path.read_text()
    lines = [x for x in text.splitlines() if x.strip()]
    records = [json.loads(x) for x in lines]  # every line of the log stream is JSON
    assert records
    # Python's warnings (Celery's SecurityWarning as root, deprecations) are records too.
    assert "Warning" not in banner, banner
    assert not [x for x in banner.splitlines() if TEXT_LOG.match(x) or x.startswith("{")]
    for r in records:
        assert {"ts", "level", "logger", "msg"} <= set(r)
    chain_tasks = {r["task_id"] for r in records if r.get("signal_id") == p["signal_id"]}
    of_chain = [r for r in records if r.get("task_id") in chain_tasks]
    names = {r["task"] for r in of_chain}
    assert set(STEPS) | {"copytrade.submit_signal"} <= names
    for r in of_chain:
        if r["task"] == "copytrade.submit_signal":
            assert r["signal_id"] == p["signal_id"], r
        else:
            assert r["signal_pk"] == pk, r
        if r["process"] != "MainProcess":  # while the task runs: both ids
            assert r["signal_id"] == p["signal_id"], r
    received = [r for r in of_chain if r["msg"].endswith(" received")]
    assert {r["task"] for r in received} >= set(STEPS)
    succeeded = [r for r in of_chain if " succeeded in " in r["msg"]]
    assert {r["task"] for r in succeeded} >= set(STEPS)
    # A line about one intent names it too.
    funds = [r for r in of_chain if "insufficient_funds" in r["msg"]]
    assert len(funds) == 1
    assert funds[0]["task"] == "copytrade.build_tx"
    assert funds[0]["intent_id"] == poor_intent
