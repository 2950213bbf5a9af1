"""Execution mode: requested (PostgreSQL), effective (every condition of core/domain/mode.py),
the emergency stop, and the window every broadcast happens in."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from core.adapters.postgres.controls import EMERGENCY_STOP, REQUESTED_MODE, ControlStore
from core.adapters.redis_mode import RedisModeStore
from core.domain.errors import TransientError, UnsafeToSend
from core.domain.mode import ModeVerdict, evaluate
from core.domain.types import Mode

log = logging.getLogger(__name__)


class ModeService:
    def __init__(self, controls: ControlStore, heartbeat: RedisModeStore, period_s: float) -> None:
        self.controls = controls
        self.heartbeat = heartbeat
        self.period_s = period_s

    def requested(self) -> Mode:
        return Mode.LIVE if self.controls.get(REQUESTED_MODE) == Mode.LIVE.value else Mode.DRY

    def request(self, mode: Mode, actor: str, reason: str | None) -> None:
        self.controls.set(REQUESTED_MODE, mode.value, actor, reason)

    def verdict(self, stopped: bool | None = None) -> ModeVerdict:
        """Read everything now; any failure to read means DRY with the reason."""
        try:
            requested_value, flag = self.controls.snapshot()
        except TransientError:
            return ModeVerdict(Mode.DRY, "controls_unreadable")
        requested = Mode.LIVE if requested_value == Mode.LIVE.value else Mode.DRY
        return evaluate(
            requested,
            flag if stopped is None else stopped,
            self.heartbeat.read(),
            self.period_s,
        )

    def effective(self) -> Mode:
        return self.verdict().mode

    def assert_can_send(self) -> None:
        v = self.verdict()
        if not v.live:
            raise UnsafeToSend(f"effective mode is DRY: {v.reason}")

    @contextmanager
    def broadcast_window(self) -> Iterator[datetime]:
        """Every broadcast happens inside: the stop flag held under a shared lock (so
        `stop` waits for it), the effective mode checked immediately before. Yields the
        database time the window opened: recorded as the attempt's `broadcast_at`, so no
        broadcast recorded after a `stop` returned can have been allowed before it."""
        with self.controls.broadcast_window() as (stopped, opened):
            v = self.verdict(stopped=stopped)
            if not v.live:
                raise UnsafeToSend(f"effective mode is DRY: {v.reason}")
            yield opened

    def stop(self, actor: str, reason: str) -> None:
        """Returns once no broadcast is in flight; none starts afterwards."""
        self.controls.set(EMERGENCY_STOP, "on", actor, reason)

    def resume(self, actor: str, reason: str) -> None:
        self.controls.set(EMERGENCY_STOP, "off", actor, reason)

    def stopped(self) -> bool:
        return self.controls.snapshot()[1]
