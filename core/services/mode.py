"""Execution mode: requested (PostgreSQL), effective (every condition of core/domain/mode.py),
the emergency stop, and the window every broadcast happens in."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from core.domain.errors import TransientError, UnsafeToSend
from core.domain.mode import EMERGENCY_STOP, REQUESTED_MODE, ModeVerdict, evaluate
from core.domain.rows import OpenWindow
from core.domain.types import Mode
from core.faults import pause
from core.ports import Controls, Heartbeats

log = logging.getLogger(__name__)


class Window:
    """An open broadcast window. `guard()` is called right before each chunk is sent and
    before each endpoint is tried: it reads the verdict again (stop flag, requested mode,
    heartbeat) and the window's bound, raises UnsafeToSend when sending is no longer safe,
    and returns the database time of that read — when the chunk went out."""

    def __init__(
        self, mode: ModeService, opened: datetime, bound_s: float, expires_at: float | None
    ) -> None:
        self.mode = mode
        self.opened = opened
        self.deadline = time.monotonic() + bound_s
        self.bound_s = bound_s
        self.expires_at = expires_at  # monotonic: the signal's max age, when one applies

    def guard(self) -> datetime:
        v, at = self.mode.verdict_at()
        if not v.live:
            raise UnsafeToSend(f"effective mode is DRY: {v.reason}")
        now = time.monotonic()
        if now > self.deadline:
            raise UnsafeToSend(f"broadcast window open longer than its {self.bound_s:g} s bound")
        if self.expires_at is not None and now > self.expires_at:
            raise UnsafeToSend("the signal is past its max age")
        pause("window.after_guard")
        return at or self.opened


class ModeService:
    def __init__(
        self,
        controls: Controls,
        heartbeat: Heartbeats,
        period_s: float,
        window_s: float = 15.0,
    ) -> None:
        self.controls = controls
        self.heartbeat = heartbeat
        self.period_s = period_s
        self.window_s = window_s

    def requested(self) -> Mode:
        return Mode.LIVE if self.controls.get(REQUESTED_MODE) == Mode.LIVE.value else Mode.DRY

    def request(self, mode: Mode, actor: str, reason: str | None) -> None:
        self.controls.set(REQUESTED_MODE, mode.value, actor, reason)

    def verdict(self, stopped: bool | None = None) -> ModeVerdict:
        """Read everything now; any failure to read means DRY with the reason."""
        return self.verdict_at(stopped)[0]

    def verdict_at(self, stopped: bool | None = None) -> tuple[ModeVerdict, datetime | None]:
        """The verdict and the database time the controls were read (None: unreadable)."""
        try:
            requested_value, flag, at = self.controls.snapshot_at()
        except TransientError:
            return ModeVerdict(Mode.DRY, "controls_unreadable"), None
        requested = Mode.LIVE if requested_value == Mode.LIVE.value else Mode.DRY
        v = evaluate(
            requested,
            flag if stopped is None else stopped,
            self.heartbeat.read(),
            self.period_s,
        )
        return v, at

    def effective(self) -> Mode:
        return self.verdict().mode

    def assert_can_send(self) -> None:
        v = self.verdict()
        if not v.live:
            raise UnsafeToSend(f"effective mode is DRY: {v.reason}")

    @contextmanager
    def broadcast_window(self, expires_at: float | None = None) -> Iterator[Window]:
        """Every broadcast happens inside: the window lock held shared (a `stop` waits for
        the open windows), the stop flag read under it and the effective mode checked
        immediately before; the window's `guard` checks again before each chunk. A window is
        bounded (COPYTRADE_BROADCAST_WINDOW_S): its guard refuses past the bound and
        PostgreSQL ends its session soon after, so no stop waits longer than that.
        `expires_at` (time.monotonic()): past it the guard refuses too (the signal's age)."""
        with self.controls.broadcast_window(self.window_s) as (stopped, opened):
            v = self.verdict(stopped=stopped)
            if not v.live:
                raise UnsafeToSend(f"effective mode is DRY: {v.reason}")
            yield Window(self, opened, self.window_s, expires_at)

    def stop(
        self,
        actor: str,
        reason: str,
        on_wait: Callable[[list[OpenWindow]], None] | None = None,
    ) -> None:
        """Set the flag (committed at once: every window opening from now on refuses, and
        `status` shows it), then return once the windows already open have closed — none
        of them sends another chunk (their guards read the flag), and none starts after.
        `on_wait` hears what the stop is waiting for."""
        self.controls.set(EMERGENCY_STOP, "on", actor, reason)
        self.controls.wait_for_windows(on_wait)

    def resume(self, actor: str, reason: str) -> None:
        self.controls.set(EMERGENCY_STOP, "off", actor, reason)

    def note(self, key: str, value: str) -> None:
        """An alarm note `status` shows while it is recent."""
        self.controls.note(key, value)

    def stopped(self) -> bool:
        return self.controls.snapshot()[1]
