"""Watching by block: one task looks at the newest block for every pending hash.

Beat runs it every `watch_period_s`; each signal's chain also ends with it."""

from __future__ import annotations

from typing import Any

from core.bootstrap import services
from tasks.base import pipeline_task


@pipeline_task("copytrade.watch", periodic=True)
def watch(signal_pk: Any = None) -> dict[str, int]:
    return vars(services().watcher.poll())
