"""The ports of the operator's verbs that act and then report (`resume`): the stop switch,
the signals a stop held, the broker's queues and what is queued in the database."""

from __future__ import annotations

from typing import Protocol

from core.domain.backlog import Backlog
from core.ports import Dispatcher


class StopSwitch(Protocol):
    """The emergency stop (the mode service)."""

    def resume(self, actor: str, reason: str) -> None: ...


class WaitingSignals(Protocol):
    """Signals whose intents wait in created or signed, with the step to re-run."""

    def waiting_signals(self) -> list[tuple[int, str]]: ...


class QueueDispatcher(Dispatcher, Protocol):
    """A dispatcher that also says how many messages wait in each of its queues (raises
    TransientError when the broker cannot be reached)."""

    def queue_lengths(self) -> dict[str, int]: ...


class BacklogReads(Protocol):
    """Intents not yet final, by state, from the store."""

    def backlog(self) -> Backlog: ...
