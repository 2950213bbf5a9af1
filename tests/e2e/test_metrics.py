"""Prometheus metrics on real prefork workers: a run, then scrapes whose values equal what
the database says happened; the Grafana dashboard reads only metrics that exist."""

from __future__ import annotations

import json
import re
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from config.celery_app import QUEUES
from config.settings import ROOT
from core.domain.states import INTENT_TERMINAL, reason_code
from tests.support import procs
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import live_worker_set

DASHBOARD = ROOT / "config" / "grafana" / "dashboards" / "copytrade.json"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    out: Samples = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over the series of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


@dataclass
class Run:
    flow: Flow
    workers: Samples
    state: Samples
    metrics_dir: Path
    rows: list[dict[str, Any]]
    broadcast_orders: int
    rejected_signal_reason: str


@pytest.fixture(scope="module")
def run(stack: Any) -> Iterator[Run]:
    wport, hport = procs.free_port(), procs.free_port()
    mdir = stack.dir / "metrics-mp"
    with (
        fresh_database("ct_metrics") as url,
        live_worker_set(
            stack,
            "metrics",
            12,
            url,
            n_workers=1,  # one worker instance, two prefork children, one exporter
            heartbeat=True,
            # No reconciler re-dispatch of a send that waits: on a busy machine a second
            # dispatch broadcast the same bytes again and the node-accept count ran ahead
            # of the attempts (each broadcast is counted; the test counts attempts).
            COPYTRADE_RECONCILE_IDLE_AFTER_S="600",
            COPYTRADE_METRICS_PORT=str(wport),
            COPYTRADE_METRICS_DIR=str(mdir),
            COPYTRADE_HEARTBEAT_METRICS_PORT=str(hport),
        ) as ws,
    ):
        flow = Flow(stack, ws.workers, ws.services)
        leader = flow.leader()
        for _ in range(3):
            flow.follower(leader)
        flow.follower(leader, eth=0)  # rejected insufficient_funds at build
        flow.follower(leader, max_leverage=1)  # rejected max_leverage at size
        flow.follower(leader, paused=True)  # rejected paused
        first = flow.payload(leader, collateral_usd="10", leverage=2)
        second = flow.payload(leader, "increase", collateral_usd="5", leverage=2)
        bad = {**flow.payload(leader), "leverage_x": "2"}  # a string: rejected by the schema
        for p in (first, second, first, bad):  # `first` twice: one duplicate
            flow.run_task("copytrade.submit_signal", p, timeout=60)
        for p in (first, second):
            flow.wait_done(p["signal_id"], timeout=90)
        rejected_reason = flow.s.intake.submit(bad).reason or ""
        rows = flow.q.intents()
        with flow.s.db.tx() as conn:
            orders = conn.execute(
                text(
                    "SELECT count(*) FROM attempts"
                    " WHERE kind = 'order' AND broadcast_at IS NOT NULL"
                )
            ).scalar_one()

        def settled() -> bool:  # the scrape after the last confirmation was counted
            got = scrape(wport)
            return total(got, "copytrade_broadcast_to_confirmed_seconds_count") == sum(
                r["state"] == "confirmed" for r in rows
            )

        procs.wait_until(settled, 30, "the confirmations counted")
        yield Run(flow, scrape(wport), scrape(hport), mdir, rows, int(orders), rejected_reason)


def test_signals_are_counted_by_outcome_and_reason(run: Run) -> None:
    w = run.workers
    assert total(w, "copytrade_signals_total", outcome="accepted") == 2
    assert total(w, "copytrade_signals_total", outcome="duplicate") == 1
    assert run.rejected_signal_reason
    assert total(w, "copytrade_signals_total", outcome="rejected") == 1
    assert (
        total(w, "copytrade_signals_total", outcome="rejected", reason=run.rejected_signal_reason)
        == 1
    )


def test_ended_intents_equal_the_database_by_state_and_reason(run: Run) -> None:
    db = Counter((r["state"], reason_code(r["reason"])) for r in run.rows)
    assert all(state in {s.value for s in INTENT_TERMINAL} for state, _ in db)
    assert {"confirmed", "rejected"} <= {state for state, _ in db}
    assert ("rejected", "insufficient_funds") in db
    assert ("rejected", "max_leverage") in db
    scraped = {
        (dict(ls)["state"], dict(ls)["reason"]): v
        for (n, ls), v in run.workers.items()
        if n == "copytrade_intents_ended_total" and v
    }
    assert scraped == dict(db)


def test_transitions_and_broadcasts_match_what_happened(run: Run) -> None:
    w, rows = run.workers, run.rows
    confirmed = sum(r["state"] == "confirmed" for r in rows)
    sent = sum(r["sent_at"] is not None for r in rows)
    assert confirmed > 0
    assert sent == confirmed
    t = "copytrade_intent_transitions_total"
    at_size = sum(reason_code(r["reason"]) in ("max_leverage", "paused") for r in rows)
    at_build = sum(reason_code(r["reason"]) == "insufficient_funds" for r in rows)
    assert at_size == 4
    assert at_build == 2
    assert total(w, t, from_state="pending", to_state="rejected") == at_size
    assert total(w, t, from_state="pending", to_state="created") == len(rows) - at_size
    assert total(w, t, from_state="created", to_state="rejected") == at_build
    assert total(w, t, from_state="created", to_state="signed") == sent
    assert total(w, t, from_state="signed", to_state="sent") == sent
    assert total(w, t, from_state="mined", to_state="confirmed") == confirmed
    assert total(w, "copytrade_broadcasts_total", kind="order", outcome="accepted") == (
        run.broadcast_orders
    )
    # One observation per intent broadcast and per intent confirmed.
    assert total(w, "copytrade_signal_to_broadcast_seconds_count") == sent
    assert total(w, "copytrade_broadcast_to_confirmed_seconds_count") == confirmed
    assert total(w, "copytrade_signal_to_broadcast_seconds_bucket", le="+Inf") == sent


def test_the_counts_come_from_more_than_one_worker_process(run: Run) -> None:
    pids = {
        m.group(1) for f in run.metrics_dir.iterdir() if (m := re.search(r"_(\d+)\.db$", f.name))
    }
    assert len(pids) >= 2, sorted(f.name for f in run.metrics_dir.iterdir())


def test_the_state_exporter_reads_mode_intents_balances_and_queues(run: Run) -> None:
    h = run.state
    assert all(v == 1 for (n, _), v in h.items() if n == "copytrade_state_read_ok")
    assert total(h, "copytrade_state_read_ok") == 4
    assert total(h, "copytrade_mode_requested_live") == 1
    assert total(h, "copytrade_mode_effective_live") == 1
    assert total(h, "copytrade_mode_forced_dry") == 0
    assert total(h, "copytrade_emergency_stop") == 0
    assert total(h, "copytrade_heartbeat_age_seconds") < 5
    by_state = Counter(r["state"] for r in run.rows)
    for state, n in by_state.items():
        assert total(h, "copytrade_intents", state=state) == n
    assert total(h, "copytrade_low_balance_signers") == 1  # the unfunded follower
    assert total(h, "copytrade_stuck_intents") == 0
    assert total(h, "copytrade_nonces_used_outside_total") == 0
    queues = {dict(ls)["queue"] for (n, ls), _ in h.items() if n == "copytrade_queue_length"}
    assert queues == set(QUEUES)


def test_no_ids_in_labels(run: Run) -> None:
    values = {v for (_, ls), _ in {**run.workers, **run.state}.items() for _, v in ls}
    ids = {str(r["id"]) for r in run.rows} | {r["signal_id"] for r in run.rows}
    ids |= {r["signer_address"] for r in run.rows if r["signer_address"]}
    assert not values & ids
    assert not any(v.startswith("0x") for v in values)


def test_the_dashboard_reads_only_metrics_that_exist(run: Run) -> None:
    board = json.loads(DASHBOARD.read_text())
    exprs = [
        t["expr"]
        for row in board["panels"]
        for p in [row, *row.get("panels", [])]
        for t in p.get("targets", [])
    ]
    assert len(exprs) >= 15
    titles = {p["title"] for p in board["panels"] if p["type"] == "row"}
    assert {"Mode & safety", "Flow", "Latency", "Chain", "Workers"} <= titles
    names = {n for (n, _) in {**run.workers, **run.state}}
    used = {n for e in exprs for n in re.findall(r"\bcopytrade_[a-z0-9_]+", e)}
    missing = sorted(n for n in used if n not in names)
    assert not missing, missing
