"""Re-broadcast of lost transactions: a pending intent none of whose attempts the node
knows any more (dropped from its pool, or reorged out) gets its newest broadcast attempt's
bytes sent again — the same hash, never skipped, never re-signed (watching finds them)."""

from __future__ import annotations

import logging

from core.domain.errors import UnsafeToSend
from core.domain.rows import InFlightIntent
from core.ports import AttemptStore, WatcherChain
from core.services.sending import Sender

log = logging.getLogger(__name__)


class LostResender:
    def __init__(self, attempts: AttemptStore, chain: WatcherChain, sender: Sender) -> None:
        self.attempts = attempts
        self.chain = chain
        self.sender = sender

    def resend(self, silent: list[InFlightIntent]) -> int:
        """`silent`: pending intents without a receipt. Returns how many were sent again."""
        if not silent:
            return 0
        known = self.chain.known([h for f in silent for h in f.hashes])
        lost = [f for f in silent if not any(h in known for h in f.hashes)]
        newest = {
            f.intent_id: next(
                h for h, b in zip(reversed(f.hashes), reversed(f.broadcast), strict=True) if b
            )
            for f in lost
            if any(f.broadcast)
        }
        if not newest:
            return 0
        raws = self.attempts.raws(list(newest.values()))
        try:
            sent = self.sender.broadcast("rebroadcast", [raws[h] for h in newest.values()])
        except UnsafeToSend:
            return 0
        done = 0
        for (intent_id, h), out in zip(newest.items(), sent.outcomes, strict=True):
            if out.accepted:
                done += 1
                log.warning(
                    "intent %s: node lost %s; same bytes sent again",
                    intent_id,
                    h,
                    extra={"intent_id": intent_id},
                )
            else:
                log.warning(
                    "intent %s: re-broadcast of %s refused: %s",
                    intent_id,
                    h,
                    out.message,
                    extra={"intent_id": intent_id},
                )
        return done
