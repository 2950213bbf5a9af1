"""Structured logs: one JSON object per line (COPYTRADE_LOG_FORMAT=json), carrying the
signal, the intent and the Celery task each line is about.

Context comes from contextvars set around every task (Celery's task_prerun/postrun hooks,
config/celery_app.py): the task's id and name and, for a task of a signal's chain, the
signal's pk and id — so every line a chain writes, Celery's own "succeeded" line included,
can be found by the signal id. A log call about one intent passes `extra={"intent_id": …}`.

Nothing secret is ever put in a record: messages carry ids (tests/e2e/test_key_canary.py
scans the logs for a fresh key).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_context: ContextVar[dict[str, Any] | None] = ContextVar("copytrade_log_context", default=None)
FIELDS = ("signal_id", "signal_pk", "intent_id", "task_id", "task")


def bind(**values: Any) -> None:
    """Set context for the lines this task (or thread) writes next."""
    _context.set({k: v for k, v in values.items() if v is not None})


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


def setup(level: str = "INFO", fmt: str = "text") -> None:
    """For our own processes (heartbeat, CLI commands that log)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s")
    if fmt == "json":
        use_json(logging.getLogger())
