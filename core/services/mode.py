"""Execution mode. The operator's requested mode lives in PostgreSQL (a Redis loss must
not change it). Unknown or unreadable means DRY."""

from __future__ import annotations

from core.adapters.postgres.registry import Registry
from core.domain.errors import UnsafeToSend
from core.domain.types import Mode

REQUESTED_MODE = "requested_mode"


class ModeService:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def requested(self) -> Mode:
        value = self.registry.get_control(REQUESTED_MODE)
        return Mode.LIVE if value == Mode.LIVE.value else Mode.DRY

    def request(self, mode: Mode, actor: str, reason: str | None) -> None:
        self.registry.set_control(REQUESTED_MODE, mode.value, actor, reason)

    def effective(self) -> Mode:
        """LIVE only when LIVE is requested (the heartbeat and stop checks extend this)."""
        return self.requested()

    def can_send(self) -> bool:
        return self.effective() is Mode.LIVE

    def assert_can_send(self) -> None:
        if not self.can_send():
            raise UnsafeToSend("effective mode is DRY")
