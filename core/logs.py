"""Structured logs: one JSON object per line (COPYTRADE_LOG_FORMAT=json), carrying the
signal, the intent and the Celery task each line is about.

Context comes from contextvars set around every task (Celery's task_prerun/postrun hooks,
config/celery_app.py): the task's id and name and, for a task of a signal's chain, the
signal's pk (its argument) and id (added by the step once it has read the signal) — so
every line a chain writes, Celery's own "succeeded" line included, can be found by the
signal id. A log call about one intent passes `extra={"intent_id": …}`.

Nothing secret is ever put in a record: messages carry ids (tests/e2e/test_key_canary.py
scans the logs for a fresh key).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from core.domain.signals import SIGNAL_ID_RE
from core.domain.steps import PER_SIGNAL_TASKS

_PK_ARGS = re.compile(r"\A[(\[](\d+),?[)\]]\Z")  # Celery's argsrepr: "(42,)" / "[42]"
_SIGNAL_ID_ARG = re.compile(r"'signal_id': '([A-Za-z0-9._:-]{1,128})'")

_context: ContextVar[dict[str, Any] | None] = ContextVar("copytrade_log_context", default=None)
FIELDS = ("signal_id", "signal_pk", "intent_id", "task_id", "task")


def from_args(task: str | None, argsrepr: str) -> dict[str, Any]:
    """The signal a task message is about, read from its argsrepr: what the worker's main
    process knows when it logs `received` (it runs no task and queries nothing)."""
    if task in PER_SIGNAL_TASKS:
        m = _PK_ARGS.match(argsrepr)
        return {"signal_pk": int(m.group(1))} if m else {}
    if task == "copytrade.submit_signal":
        m = _SIGNAL_ID_ARG.search(argsrepr)
        return {"signal_id": m.group(1)} if m else {}
    return {}


def bind_task(task_id: str | None, name: str | None, args: Any) -> None:
    """Context for the lines a task writes: its id and name and, for a task of a signal's
    chain, the signal's pk (its argument); the step adds the signal's id (`add`) as soon as
    it has read the signal — no log hook reads the database."""
    ctx: dict[str, Any] = {"task_id": task_id, "task": name}
    if name in PER_SIGNAL_TASKS and args:
        ctx["signal_pk"] = args[0]
    elif name == "copytrade.submit_signal" and args and isinstance(args[0], dict):
        sid = args[0].get("signal_id")
        ctx["signal_id"] = sid if isinstance(sid, str) and SIGNAL_ID_RE.match(sid) else None
    bind(**ctx)


def bind(**values: Any) -> None:
    """Set context for the lines this task (or thread) writes next."""
    _context.set({k: v for k, v in values.items() if v is not None})


def add(**values: Any) -> None:
    """Add to the context of the lines this task (or thread) writes next."""
    _context.set({**(_context.get() or {}), **{k: v for k, v in values.items() if v is not None}})


def clear() -> None:
    _context.set(None)


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    token = _context.set({**(_context.get() or {}), **values})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    """{"ts", "level", "logger", "process", "msg", signal_id, signal_pk, intent_id,
    task_id, task, "exc"} — only the keys that have a value."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.processName,
            "msg": record.getMessage(),
        }
        out.update(_context.get() or {})
        data = record.__dict__.get("data")  # Celery's received/succeeded lines
        if isinstance(data, dict) and "id" in data:
            out.setdefault("task_id", data["id"])
            out.setdefault("task", data.get("name"))
            if "signal_pk" not in out and "signal_id" not in out:
                out.update(from_args(data.get("name"), str(data.get("args") or "")))
        for k in FIELDS:
            v = record.__dict__.get(k)
            if v is not None:
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def use_json(logger: logging.Logger) -> None:
    """Give every handler of `logger` the JSON formatter."""
    for h in logger.handlers:
        h.setFormatter(JsonFormatter())


def capture_warnings_as_json() -> None:
    """Python's warnings become log records in JSON on stderr from now on, before the
    process's logging is set up (Celery warns before its own set-up: SecurityWarning as
    root); once it is, `warnings_to_root` hands them to the root logger's handlers."""
    logging.captureWarnings(True)
    w = logging.getLogger("py.warnings")
    if not w.handlers:
        h = logging.StreamHandler()
        h.setFormatter(JsonFormatter())
        w.addHandler(h)
        w.propagate = False


def warnings_to_root() -> None:
    w = logging.getLogger("py.warnings")
    for h in list(w.handlers):
        w.removeHandler(h)
    w.propagate = True


def setup(level: str = "INFO", fmt: str = "text") -> None:
    """For our own processes (heartbeat, CLI commands that log)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s")
    if fmt == "json":
        use_json(logging.getLogger())
