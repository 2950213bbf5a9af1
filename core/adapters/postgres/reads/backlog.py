"""What is queued in the database: intents not yet final, by state (`resume`'s report)."""

from __future__ import annotations

from sqlalchemy import func, select

from core.adapters.postgres.db import Database
from core.adapters.postgres.tables import intents
from core.domain.backlog import Backlog
from core.domain.states import INTENT_BEFORE_SEND, INTENT_TERMINAL, IntentState


class BacklogQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    def backlog(self) -> Backlog:
        """Non-terminal intents per state, and the signals holding those not yet sent."""
        # IN over the open states (not NOT IN the terminal ones): ix_intents_state serves it
        # however many finished intents the table holds.
        open_states = [s.value for s in IntentState if s not in INTENT_TERMINAL]
        before_send = sorted(s.value for s in INTENT_BEFORE_SEND)
        with self.db.tx() as conn:
            by_state = dict(
                conn.execute(
                    select(intents.c.state, func.count())
                    .where(intents.c.state.in_(open_states))
                    .group_by(intents.c.state)
                )
                .tuples()
                .all()
            )
            signals = conn.execute(
                select(func.count(func.distinct(intents.c.signal_pk))).where(
                    intents.c.state.in_(before_send)
                )
            ).scalar_one()
        return Backlog({str(k): int(n) for k, n in by_state.items()}, int(signals))
