"""Beat's rounds that tell people: the notifications drain on its own queue (`notify`,
every COPYTRADE_NOTIFY_PERIOD_S; one drain at a time, the others find the lock taken), the
alerts round, and the loss guard (`watch`: it reads the chain)."""

from __future__ import annotations

from core.bootstrap import services
from core.services import alerting
from tasks.base import pipeline_task


@pipeline_task("copytrade.alerts", periodic=True)
def alerts() -> dict[str, str]:
    return alerting.check(services())


@pipeline_task("copytrade.loss_guard", periodic=True)
def loss_guard() -> dict[str, str]:
    """Followers' loss limits against their venue equity (core/services/loss_guard.py)."""
    return {str(k): v for k, v in services().loss_guard().items()}


@pipeline_task("copytrade.notify", periodic=True)
def notify() -> dict[str, object]:
    return vars(services().notifier.drain())
