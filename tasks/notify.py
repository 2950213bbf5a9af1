"""The notifications drain on its own queue (`notify`): beat sends it every
COPYTRADE_NOTIFY_PERIOD_S; one drain runs at a time (the others find the lock taken)."""

from __future__ import annotations

from core.bootstrap import services
from core.services import alerting
from tasks.base import pipeline_task


@pipeline_task("copytrade.alerts", periodic=True)
def alerts() -> dict[str, str]:
    return alerting.check(services())


@pipeline_task("copytrade.notify", periodic=True)
def notify() -> dict[str, object]:
    return vars(services().notifier.drain())
