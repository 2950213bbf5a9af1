"""Enqueue a signal's chain on the broker (kombu errors stop here)."""

from __future__ import annotations

import logging

from celery import Celery, chain
from kombu.exceptions import KombuError, OperationalError

log = logging.getLogger(__name__)

STEPS = ("validate", "size", "check_mode", "build_tx", "send", "watch")


class CeleryDispatcher:
    def __init__(self, app: Celery) -> None:
        self.app = app

    def dispatch(self, signal_pk: int, start: str = "validate", countdown: float = 0) -> bool:
        steps = STEPS[STEPS.index(start) :]
        sigs = [
            self.app.signature(f"copytrade.{s}", args=(signal_pk,), immutable=True) for s in steps
        ]
        try:
            chain(*sigs).apply_async(countdown=countdown or None)
        except (OperationalError, KombuError, OSError) as exc:
            log.warning("dispatch of signal %s failed: %s", signal_pk, type(exc).__name__)
            return False
        return True
