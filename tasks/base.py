"""How every pipeline task treats failure: transient errors retry with backoff; unsafe-to-send
retries every health period (the work waits, it is never dropped). Any other error of a
per-signal step is retried PERMANENT_RETRIES times, then the signal gives up: its intents
without a nonce end failed(internal: <Type>) and the leader's next signal is woken, so one
broken signal never holds a leader's queue for the reconciler's rounds."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task
from celery.exceptions import Ignore

from config.celery_app import app
from config.settings import get_settings
from core.bootstrap import services
from core.domain.errors import TransientError, UnsafeToSend

log = logging.getLogger(__name__)
TRANSIENT_RETRIES = 50
PERMANENT_RETRIES = 2  # then the signal gives up (a bug or bad data: a retry will not help)


def pipeline_task(  # type: ignore[type-arg]
    name: str, per_signal: bool = False, keeps_result: bool = False, periodic: bool = False
) -> Callable[[Callable[..., Any]], Task]:
    """`keeps_result`: the return value is stored in the result backend for whoever sent
    the task (the producers' task only; every internal task's result is ignored).
    `periodic`: beat sends it with an expiry; a round that fails transiently is not retried
    (the retry would carry the past expiry: Celery warns "expiration date in the past" and
    the worker discards it), the next beat round is the retry."""

    def wrap(fn: Callable[..., Any]) -> Task:  # type: ignore[type-arg]
        @app.task(name=name, bind=True, max_retries=None, ignore_result=not keeps_result)
        def run(self: Task, *args: Any) -> Any:  # type: ignore[type-arg]
            s = get_settings()
            try:
                return fn(*args)
            except Ignore:
                raise  # the step stops its chain (Celery acks the message, runs no more steps)
            except (UnsafeToSend, TransientError) as exc:
                if periodic and self.request.expires is not None:
                    log.info("%s: %s; the next beat round does it", name, exc)
                    raise Ignore() from None
                if isinstance(exc, TransientError):
                    delay = min(10.0, 0.5 * 2**self.request.retries)
                    raise self.retry(
                        exc=exc, countdown=delay, max_retries=TRANSIENT_RETRIES
                    ) from None
                # Bounded by the signal's max age: past it the step ends the wait itself.
                limit = int(s.max_signal_age_s / s.health_period_s) + 20
                raise self.retry(exc=exc, countdown=s.health_period_s, max_retries=limit) from None
            except Exception as exc:
                if not per_signal:
                    raise
                if self.request.retries < PERMANENT_RETRIES:
                    raise self.retry(
                        exc=exc, countdown=1.0, max_retries=PERMANENT_RETRIES
                    ) from None
                services().pipeline.give_up(int(args[0]), exc)
                raise

        run.__doc__ = fn.__doc__
        return run

    return wrap
