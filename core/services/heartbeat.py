"""The heartbeat loop: its own process (`copytrade heartbeat`), never behind real work.

It writes twice per period so that no slot is missed while the store is healthy; the
store counts each slot once."""

from __future__ import annotations

import logging
import threading

from core.ports import Beater

log = logging.getLogger(__name__)


def run(store: Beater, period_s: float, stop: threading.Event) -> None:
    healthy = None
    while not stop.is_set():
        beat = store.beat()
        ok = beat is not None
        if ok != healthy:
            log.warning("heartbeat %s", f"healthy (streak {beat.streak})" if beat else "failing")
            healthy = ok
        stop.wait(period_s / 2)
