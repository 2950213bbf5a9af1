"""The ports services depend on. Adapters implement them; only bootstrap wires them."""

from __future__ import annotations

from typing import Protocol


class Dispatcher(Protocol):
    def dispatch(self, signal_pk: int, start: str = "validate", countdown: float = 0) -> bool:
        """Enqueue the signal's chain from `start`; False when the broker refused it
        (the signal row is committed, so the reconciler dispatches it later)."""
        ...
