"""Prometheus metrics of what the pipeline did (counters and histograms, `copytrade_*`).

Worker processes count in prometheus_client's multiprocess mode: the worker's main process
(Celery's `worker_init` hook, before the pool forks) picks a fresh directory, points
PROMETHEUS_MULTIPROC_DIR at it and serves the sum over every child on
COPYTRADE_METRICS_PORT. Nothing here is created at import: the metric objects are built on
first use in each process, after that hook ran. In any other process (the CLI, tests) the
counts stay in memory and nobody reads them.

Labels never carry ids (no signal, intent, follower or address): only bounded sets such
as a state, a reason code (`core.domain.states.reason_code`), a task name or a queue.
The state of the system (mode, stop, stuck, queues, balances) is read at scrape time by
the heartbeat's exporter instead: `core.services.health_metrics`.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from core.domain.states import INTENT_TERMINAL, INTENT_TRANSITIONS

log = logging.getLogger(__name__)

# Latency buckets: a broadcast lands in tens of ms when idle; confirmations take blocks.
FAST_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
SLOW_BUCKETS = (1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


@dataclass(frozen=True)
class _Metrics:
    signals: Any
    transitions: Any
    ended: Any
    broadcasts: Any
    signal_to_broadcast: Any
    broadcast_to_confirmed: Any
    task_failures: Any
    task_retries: Any


@cache
def _metrics(pid: int) -> _Metrics:  # keyed by pid: a forked child builds its own
    # import order: prometheus_client picks its value class from PROMETHEUS_MULTIPROC_DIR
    # when first imported, and the worker sets that directory first (setup_multiprocess).
    from prometheus_client import CollectorRegistry, Counter, Histogram

    reg = CollectorRegistry(auto_describe=True)  # never served directly (see serve_workers)
    return _Metrics(
        signals=Counter(
            "copytrade_signals_total",
            "Signals answered by intake, by outcome (accepted, duplicate, conflict, "
            "rejected) and reason code.",
            ["outcome", "reason"],
            registry=reg,
        ),
        transitions=Counter(
            "copytrade_intent_transitions_total",
            "Intent state transitions committed (compare-and-set won).",
            ["from_state", "to_state"],
            registry=reg,
        ),
        ended=Counter(
            "copytrade_intents_ended_total",
            "Intents that reached a terminal state, by state and reason code.",
            ["state", "reason"],
            registry=reg,
        ),
        broadcasts=Counter(
            "copytrade_broadcasts_total",
            "Raw transactions handed to the node, by kind (order, replacement, cancel, "
            "rebroadcast, resign) and outcome (accepted or the node's refusal kind).",
            ["kind", "outcome"],
            registry=reg,
        ),
        signal_to_broadcast=Histogram(
            "copytrade_signal_to_broadcast_seconds",
            "From the signal's acceptance to its intent's first accepted broadcast.",
            buckets=FAST_BUCKETS,
            registry=reg,
        ),
        broadcast_to_confirmed=Histogram(
            "copytrade_broadcast_to_confirmed_seconds",
            "From an intent's first accepted broadcast to its confirmation (N blocks).",
            buckets=SLOW_BUCKETS,
            registry=reg,
        ),
        task_failures=Counter(
            "copytrade_task_failures_total",
            "Celery tasks that raised out of their retries, by task name.",
            ["task"],
            registry=reg,
        ),
        task_retries=Counter(
            "copytrade_task_retries_total",
            "Celery task retries (transient errors, waits while unsafe), by task name.",
            ["task"],
            registry=reg,
        ),
    )


def m() -> _Metrics:
    return _metrics(os.getpid())


# -- what the code records -------------------------------------------------------------
def signal_answered(outcome: str, reason: str | None) -> None:
    m().signals.labels(outcome, reason or "").inc()


def intents_moved(current: str, new: str, n: int, terminal: bool, reason: str = "") -> None:
    """`n` intents committed current -> new (`reason`: a reason code, for terminal states)."""
    if n <= 0:
        return
    mm = m()
    mm.transitions.labels(current, new).inc(n)
    if terminal:
        mm.ended.labels(new, reason).inc(n)


def broadcasts(kind: str, outcomes: Iterable[str]) -> None:
    """One per raw transaction sent: `accepted` or the refusal kind the adapter reports."""
    c = m().broadcasts
    for o in outcomes:
        c.labels(kind, o).inc()


class _Outcome(Protocol):
    @property
    def accepted(self) -> bool: ...

    @property
    def kind(self) -> str: ...


def broadcast_outcomes(kind: str, outs: Iterable[_Outcome]) -> None:
    """Count the chain adapter's send outcomes (`accepted`, else its refusal kind). Bytes
    the node already had (`known`: the same transaction sent again after a crash, a retry
    or a task delivered twice) count as a `rebroadcast`, never as another order."""
    outs = list(outs)
    broadcasts(kind, ["accepted" if o.accepted else o.kind for o in outs if o.kind != "known"])
    broadcasts("rebroadcast", ["accepted" for o in outs if o.kind == "known"])


def observe_signal_to_broadcast(seconds: float, n: int) -> None:
    h = m().signal_to_broadcast
    for _ in range(n):
        h.observe(seconds)


def observe_broadcast_to_confirmed(seconds: float) -> None:
    m().broadcast_to_confirmed.observe(max(0.0, seconds))


def task_failed(task: str) -> None:
    m().task_failures.labels(task).inc()


def task_retried(task: str) -> None:
    m().task_retries.labels(task).inc()


SIGNAL_OUTCOMES = ("accepted", "duplicate", "conflict", "rejected")
BROADCAST_KINDS = ("order", "replacement", "cancel", "rebroadcast", "resign")


def prime(task_names: Iterable[str]) -> None:
    """Create the series every dashboard and alert reads at 0 (a worker process at start),
    so a rate over a series that has not happened yet is 0, not absent."""
    mm = m()
    for outcome in SIGNAL_OUTCOMES:
        mm.signals.labels(outcome, "")
    for current, nexts in INTENT_TRANSITIONS.items():
        for new in nexts:
            mm.transitions.labels(current.value, new.value)
    for state in INTENT_TERMINAL:
        mm.ended.labels(state.value, "")
    for kind in BROADCAST_KINDS:
        mm.broadcasts.labels(kind, "accepted")
    for name in task_names:
        mm.task_failures.labels(name)
        mm.task_retries.labels(name)


# -- worker exporter -------------------------------------------------------------------
def setup_multiprocess(directory: str | None = None) -> str:
    """Count in files under a fresh directory from now on (this process and its forks).
    Called in the worker's main process before the pool starts; returns the directory."""
    from prometheus_client import values  # import order: see _metrics

    path = directory or tempfile.mkdtemp(prefix="copytrade-metrics-")
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):  # a restarted worker starts from zero, as Prometheus expects
        if name.endswith(".db"):
            os.unlink(os.path.join(path, name))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    _metrics.cache_clear()
    return path


def serve_workers(port: int, directory: str, addr: str = "0.0.0.0") -> None:  # noqa: S104
    """Serve the sum over every process that counted under `directory` (a thread)."""
    # import order: see _metrics
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector  # import order

    reg = CollectorRegistry()
    MultiProcessCollector(reg, path=directory)  # type: ignore[no-untyped-call]
    start_http_server(port, addr=addr, registry=reg)


def start_worker_exporter(port: int, directory: str = "") -> str | None:
    """The worker's exporter, or None (logged) when the port is 0 or taken: a worker that
    cannot export still trades."""
    if not port:
        return None
    path = setup_multiprocess(directory or None)
    try:
        serve_workers(port, path)
    except OSError as exc:
        log.error("metrics exporter not started on port %s: %s", port, exc)
        return None
    log.info("metrics on :%s (multiprocess directory %s)", port, path)
    return path
