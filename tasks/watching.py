"""Watching by block: one task looks at the newest block for every pending hash.

Beat runs it every `watch_period_s`; each signal's chain also ends with it."""

from __future__ import annotations

from typing import Any

from config.celery_app import app
from core.bootstrap import services
from tasks.base import RETRYING


@app.task(name="copytrade.watch", **RETRYING)
def watch(signal_pk: Any = None) -> dict[str, int]:
    return vars(services().watcher.poll())
