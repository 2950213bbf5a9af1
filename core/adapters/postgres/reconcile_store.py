"""What stopped short of a terminal state, found under an advisory lock (two beats: one
does the round, the other returns at once)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select, text, update

from core.adapters.postgres.db import Database
from core.adapters.postgres.tables import intents, signals
from core.domain.states import IntentState, check_intent

I = IntentState
LOCK = "SELECT pg_try_advisory_xact_lock(hashtext('copytrade.reconcile'))"


@dataclass
class Stalled:
    dispatch: list[tuple[int, str]]  # (signal pk, first step to run again)
    poisoned: int
    locked_out: bool = False


class ReconcileStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim_round(self, after_s: float, max_tries: int, count_tries: bool) -> Stalled:
        idle = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, after_s)
        with self.db.tx() as conn:
            if not conn.execute(text(LOCK)).scalar():
                return Stalled([], 0, locked_out=True)
            accepted = (
                conn.execute(
                    select(signals.c.id).where(
                        signals.c.state == "accepted", signals.c.updated_at < idle
                    )
                )
                .scalars()
                .all()
            )
            steps = {I.PENDING.value: "size", I.CREATED.value: "check_mode", I.SIGNED.value: "send"}
            rows = conn.execute(
                select(intents.c.signal_pk, intents.c.state, func.max(intents.c.tries))
                .where(intents.c.state.in_(list(steps)), intents.c.updated_at < idle)
                .group_by(intents.c.signal_pk, intents.c.state)
            ).all()
            poisoned = 0
            if count_tries:
                check_intent(I.PENDING, I.FAILED)
                check_intent(I.CREATED, I.FAILED)
                early = [I.PENDING.value, I.CREATED.value]
                poisoned = conn.execute(
                    update(intents)
                    .where(
                        intents.c.state.in_(early),
                        intents.c.updated_at < idle,
                        intents.c.tries >= max_tries,
                        intents.c.nonce.is_(None),
                    )
                    .values(
                        state=I.FAILED.value,
                        reason="poison: stopped short too often",
                        updated_at=func.now(),
                    )
                ).rowcount
                conn.execute(
                    update(intents)
                    .where(and_(intents.c.state.in_(early), intents.c.updated_at < idle))
                    .values(tries=intents.c.tries + 1)
                )
        order = ["size", "check_mode", "send"]
        first: dict[int, str] = {}
        for pk, state, _tries in rows:
            step = steps[state]
            if pk not in first or order.index(step) < order.index(first[pk]):
                first[pk] = step
        dispatch = [(int(pk), "validate") for pk in accepted]
        dispatch += sorted(first.items())
        return Stalled(dispatch, int(poisoned))
