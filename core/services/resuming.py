"""`copytrade resume`: lift the emergency stop, re-enqueue the signals it held, and say what
is queued and where — the intents still to send (of how many signals) and in flight, and the
broker's queue depths. A stop on a busy system holds thousands of intents behind a handful
of signals; "1 signal re-enqueued" alone reads as if the work were done.

The broker being unreachable does not fail the resume: the stop is lifted in PostgreSQL,
the signals that could not be re-enqueued are the reconciler's (it re-enqueues a signal
that stopped short), and the report says the broker could not be reached."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.domain.backlog import Backlog
from core.domain.errors import TransientError
from core.ports.operations import BacklogReads, QueueDispatcher, StopSwitch, WaitingSignals


@dataclass(frozen=True)
class ResumeReport:
    waiting: int  # signals the stop held (intents in created or signed)
    re_enqueued: int
    backlog: Backlog
    queues: dict[str, int] | str  # messages per broker queue, or "unknown: <why>"

    def as_dict(self) -> dict[str, Any]:
        to_send, in_flight = self.backlog.to_send(), self.backlog.in_flight()
        return {
            "resumed": True,
            "waiting_signals": self.waiting,
            "re_enqueued": self.re_enqueued,
            "to_send": {
                "intents": sum(to_send.values()),
                "signals": self.backlog.signals_to_send,
                "by_state": to_send,
            },
            "in_flight": {"intents": sum(in_flight.values()), "by_state": in_flight},
            "queues": self.queues,
        }

    def line(self) -> str:
        """One line: what was re-enqueued; what is still to send; what the broker holds."""
        parts = ["resumed", self._re_enqueued()]
        to_send, in_flight = self.backlog.to_send(), self.backlog.in_flight()
        if to_send:
            n = sum(to_send.values())
            each = ", ".join(f"{c:,} {state}" for state, c in to_send.items())
            parts.append(
                f"{_count(n, 'intent')} of {_count(self.backlog.signals_to_send, 'signal')} "
                f"still to send ({each})"
            )
        else:
            parts.append("no intent left to send")
        if in_flight:
            parts.append(
                f"{_count(sum(in_flight.values()), 'intent')} in flight "
                f"({', '.join(f'{c:,} {state}' for state, c in in_flight.items())})"
            )
        if isinstance(self.queues, dict):
            depths = ", ".join(f"{q} {n:,}" for q, n in sorted(self.queues.items()))
            parts.append(f"broker queues: {depths} messages")
        else:
            parts.append(f"broker unreachable: {self.queues.removeprefix('unknown: ')}")
        return "; ".join(parts)

    def _re_enqueued(self) -> str:
        if not self.waiting:
            return "no waiting signal to re-enqueue"
        if self.re_enqueued == self.waiting:
            return f"re-enqueued {_count(self.waiting, 'waiting signal')}"
        them = "it" if self.waiting - self.re_enqueued == 1 else "them"
        return (
            f"re-enqueued {self.re_enqueued:,} of {_count(self.waiting, 'waiting signal')} "
            f"(the broker refused: the reconciler re-enqueues {them} once the broker is back)"
        )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def resume(
    switch: StopSwitch,
    waiting: WaitingSignals,
    dispatcher: QueueDispatcher,
    backlog: BacklogReads,
    actor: str,
    reason: str,
) -> ResumeReport:
    """Lift the stop, re-enqueue each held signal from the step it stopped at, then count
    what is left (after the re-enqueue: the queue depths include it). The first refusal
    ends the re-enqueue: each costs a publish timeout, and a stop can hold hundreds of
    signals; the reconciler re-enqueues the rest once the broker is back."""
    switch.resume(actor, reason)
    held = waiting.waiting_signals()
    sent = 0
    for pk, step in held:
        if not dispatcher.dispatch(pk, start=step):
            break
        sent += 1
    queues: dict[str, int] | str
    try:
        queues = dispatcher.queue_lengths()
    except TransientError as exc:
        queues = f"unknown: {exc}"[:300]
    return ResumeReport(len(held), sent, backlog.backlog(), queues)
