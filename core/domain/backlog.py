"""What is queued in the database: intents not yet final, by state (what `resume` reports
besides what it re-enqueued)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.domain.states import INTENT_BEFORE_SEND, IntentState

# Not yet sent, in chain order (the enum's): pending, created, signed.
TO_SEND_ORDER: tuple[IntentState, ...] = tuple(s for s in IntentState if s in INTENT_BEFORE_SEND)


@dataclass(frozen=True)
class Backlog:
    """Intents in a non-terminal state, by state, and how many signals hold the ones not yet
    sent (`signals_to_send`)."""

    by_state: Mapping[str, int] = field(default_factory=dict)
    signals_to_send: int = 0

    def to_send(self) -> dict[str, int]:
        """pending / created / signed counts, in chain order, the empty ones left out."""
        return {s.value: n for s in TO_SEND_ORDER if (n := self.by_state.get(s.value, 0))}

    def in_flight(self) -> dict[str, int]:
        """Sent and not yet final (sent, held, cancelling, mined, executed, frozen)."""
        return {k: n for k, n in sorted(self.by_state.items()) if k not in INTENT_BEFORE_SEND and n}
