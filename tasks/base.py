"""How every pipeline task treats failure: transient errors retry with backoff; unsafe-to-send
retries every health period (the work waits, it is never dropped). Nothing else is caught."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import Task

from config.celery_app import app
from config.settings import get_settings
from core.domain.errors import TransientError, UnsafeToSend

TRANSIENT_RETRIES = 50


@dataclass(frozen=True)
class Halt:
    """Returned by a step: its value is the task's result, and the rest of the chain is not
    enqueued (a gated or duplicate chain stops here instead of running empty steps)."""

    value: Any


def pipeline_task(name: str) -> Callable[[Callable[..., Any]], Task]:  # type: ignore[type-arg]
    def wrap(fn: Callable[..., Any]) -> Task:  # type: ignore[type-arg]
        @app.task(name=name, bind=True, max_retries=None)
        def run(self: Task, *args: Any) -> Any:  # type: ignore[type-arg]
            s = get_settings()
            try:
                result = fn(*args)
                if isinstance(result, Halt):
                    self.request.chain = None  # the rest of this chain has nothing to do
                    return result.value
                return result
            except UnsafeToSend as exc:
                # Bounded by the signal's max age: past it the step ends the wait itself.
                limit = int(s.max_signal_age_s / s.health_period_s) + 20
                raise self.retry(exc=exc, countdown=s.health_period_s, max_retries=limit) from None
            except TransientError as exc:
                delay = min(10.0, 0.5 * 2**self.request.retries)
                raise self.retry(exc=exc, countdown=delay, max_retries=TRANSIENT_RETRIES) from None

        run.__doc__ = fn.__doc__
        return run

    return wrap
