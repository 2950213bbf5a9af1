"""The reconciler (beat): re-enqueue exactly the missing step of work that stopped short
(worker killed, message lost, dispatch deferred while the broker was down)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.ports import Dispatcher, ReconcileStore
from core.services.mode import ModeService

log = logging.getLogger(__name__)


@dataclass
class ReconcileResult:
    dispatched: int = 0
    poisoned: int = 0
    skipped: bool = False


class Reconciler:
    def __init__(
        self,
        store: ReconcileStore,
        dispatcher: Dispatcher,
        mode: ModeService,
        idle_after_s: float,
        max_tries: int,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.mode = mode
        self.idle_after_s = idle_after_s
        self.max_tries = max_tries

    def run(self) -> ReconcileResult:
        # Intents waiting out a forced DRY or a stop are not poison: count tries only while
        # sending is allowed.
        live = self.mode.verdict().live
        stalled = self.store.claim_round(self.idle_after_s, self.max_tries, count_tries=live)
        if stalled.locked_out:
            return ReconcileResult(skipped=True)
        sent = sum(self.dispatcher.dispatch(pk, start=step) for pk, step in stalled.dispatch)
        if stalled.dispatch:
            log.warning("reconciler re-enqueued %d signal(s): %s", sent, stalled.dispatch[:10])
        return ReconcileResult(sent, stalled.poisoned)
