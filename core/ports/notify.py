"""The notifications' ports: the outbox store a drain reads and records, and the sender.
Re-exported by core.ports."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from core.domain.notifications import Head, Pending, SendResult, Target


class NotificationStore(Protocol):
    def drain_lock(self) -> AbstractContextManager[bool]:
        """True: this process is the one drain now (order and pacing need one)."""
        ...

    def alerts_lock(self) -> AbstractContextManager[bool]: ...
    def bot_sent_ages(self, window_s: float) -> list[float]: ...
    def heads(self) -> list[Head]: ...
    def deliver(
        self,
        head: Head,
        send: Callable[[Target, list[Pending]], tuple[list[Pending], SendResult]],
        max_tries: int,
        backoff_max_s: float,
    ) -> tuple[int, SendResult] | None:
        """In one transaction: lock `head`'s destination's pending messages, `send` them
        (it says which went out as one message, and how), record the result; None when
        `head` is no longer the destination's next due message. Returns (messages, how)."""
        ...

    def counts(self) -> dict[str, int]: ...
    def failures(self, limit: int) -> list[str]: ...


class NotifySender(Protocol):
    def send(self, url: str, title: str, body: str) -> SendResult: ...
