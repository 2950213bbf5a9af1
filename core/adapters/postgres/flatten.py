"""What flattening a follower reads and writes (core/services/flatten.py): the follower,
the assets it has traded, an operator close still open, and the operator's signals
(written by the signal store), with the registry's audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.adapters.postgres.registry import Registry
from core.adapters.postgres.signals import OPERATOR_SOURCE, SignalStore
from core.adapters.postgres.tables import intents, signals
from core.domain.rows import FollowerRow
from core.domain.signals import SignalSpec
from core.domain.states import SignalState
from core.domain.types import Action


class FlattenStore:
    def __init__(self, registry: Registry, signal_store: SignalStore) -> None:
        self.registry = registry
        self.signal_store = signal_store
        self.db = registry.db

    def follower(self, follower_id: int) -> FollowerRow:
        return self.registry.follower(follower_id)

    def traded_assets(self, follower_id: int) -> list[str]:
        with self.db.tx() as conn:
            q = select(intents.c.asset).distinct().where(intents.c.follower_id == follower_id)
            return sorted(conn.execute(q).scalars())

    def open_close(self, follower_id: int, asset: str, side: str) -> str | None:
        """The signal id of an operator close of this position not yet done."""
        s = signals.c
        with self.db.tx() as conn:
            return conn.execute(
                select(s.signal_id)
                .where(
                    s.source == OPERATOR_SOURCE,
                    s.follower_id == follower_id,
                    s.asset == asset,
                    s.side == side,
                    s.action == Action.CLOSE.value,
                    s.state.in_([SignalState.ACCEPTED.value, SignalState.DISPATCHED.value]),
                )
                .limit(1)
            ).scalar()

    def insert_signal(
        self, spec: SignalSpec, leader_id: int, source: str, follower_id: int | None = None
    ) -> tuple[str, int]:
        return self.signal_store.insert_signal(spec, leader_id, source, follower_id)

    def audit(self, actor: str, action: str, reason: str | None, **details: Any) -> None:
        self.registry.audit(actor, action, reason, **details)
