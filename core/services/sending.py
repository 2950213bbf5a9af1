"""The one broadcast path: open the mode service's broadcast window, send the raw
transactions (the window's guard before every chunk), count the outcomes, and — for
attempts after the first — record each outcome on its attempt."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core import metrics
from core.domain.chain import SendOutcome
from core.domain.errors import UnsafeToSend
from core.faults import pause
from core.ports import AttemptStore, Broadcaster
from core.services.mode import ModeService


def who() -> str:
    """hostname:pid of this (forked) process, recorded on the attempts it broadcast."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Sent:
    outcomes: list[SendOutcome]
    opened: datetime  # when the window opened (the database time)
    block: int  # the head when the last chunk went out

    def at(self, i: int) -> datetime:
        """When outcome `i`'s chunk went out: its guard's read, else the window's opening."""
        return self.outcomes[i].at or self.opened


class Sender:
    def __init__(self, mode: ModeService, chain: Broadcaster) -> None:
        self.mode = mode
        self.chain = chain

    def broadcast(
        self,
        kind: str,
        raws: Sequence[bytes],
        expires_at: float | None = None,
        in_window: str | None = None,
    ) -> Sent:
        """Send `raws` inside one window; `kind` labels the metrics (order, replacement,
        cancel, rebroadcast, resign). Raises UnsafeToSend when the window will not open.
        `in_window`: a pause point right after the window opened (tests)."""
        with self.mode.broadcast_window(expires_at) as window:
            if in_window:
                pause(in_window)
            outcomes, block = self.chain.broadcast(raws, window.guard)
        metrics.broadcast_outcomes(kind, outcomes)
        return Sent(outcomes, window.opened, block)

    def attempts(
        self, kind: str, store: AttemptStore, items: Sequence[tuple[int, bytes]]
    ) -> Sent | None:
        """Broadcast written-ahead attempts ((attempt id, raw) each) and record each
        outcome on its attempt: broadcast (block, by whom, when) or the node's error. None:
        not sent (the window refused: the bytes stay written ahead for a later round)."""
        try:
            sent = self.broadcast(kind, [raw for _, raw in items])
        except UnsafeToSend:
            return None
        for i, ((attempt_id, _), out) in enumerate(zip(items, sent.outcomes, strict=True)):
            if out.accepted:
                store.mark_broadcast(attempt_id, sent.block, who(), sent.at(i))
            else:
                store.record_error(attempt_id, f"{out.kind}: {out.message}")
        return sent
