"""What a drill judges from: the database clock, broadcasts by time, one intent's attempts,
and orders per idempotency key. Times are the database's (one clock for every process)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from core.adapters.postgres.db import Database
from core.adapters.postgres.tables import attempts, intents, signals


class DrillQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    def now(self) -> datetime:
        with self.db.tx() as conn:
            value: datetime = conn.execute(select(func.clock_timestamp())).scalar_one()
        return value

    def broadcasts(self, since: datetime, until: datetime | None = None) -> list[datetime]:
        """When each attempt was first accepted by a node, in [since, until)."""
        q = select(attempts.c.broadcast_at).where(attempts.c.broadcast_at >= since)
        if until is not None:
            q = q.where(attempts.c.broadcast_at < until)
        with self.db.tx() as conn:
            return sorted(conn.execute(q).scalars())

    def replacements_since(self, since: datetime) -> list[int]:
        """Intents that got a second or later attempt broadcast since `since`."""
        with self.db.tx() as conn:
            return sorted(
                set(
                    conn.execute(
                        select(attempts.c.intent_id).where(
                            attempts.c.attempt_no > 1, attempts.c.broadcast_at >= since
                        )
                    ).scalars()
                )
            )

    def signal_states(self, signal_ids: list[str]) -> dict[str, str]:
        with self.db.tx() as conn:
            rows = conn.execute(
                select(signals.c.signal_id, signals.c.state).where(
                    signals.c.signal_id.in_(signal_ids)
                )
            )
            return {str(a): str(b) for a, b in rows.tuples()}

    def intents_of_signals(self, signal_ids: list[str]) -> list[dict[str, Any]]:
        with self.db.tx() as conn:
            rows = conn.execute(
                select(
                    intents.c.id,
                    intents.c.state,
                    intents.c.tx_hash,
                    intents.c.idempotency_key,
                    signals.c.signal_id,
                )
                .select_from(intents.join(signals))
                .where(signals.c.signal_id.in_(signal_ids))
            )
            return [dict(r._mapping) for r in rows]
