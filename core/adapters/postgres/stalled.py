"""What stopped short of a terminal state, found under an advisory lock (two beats: one
does the round, the other returns at once)."""

from __future__ import annotations

from sqlalchemy import and_, func, select, text, update

from core.adapters.postgres import outbox
from core.adapters.postgres.cas import count_moved
from core.adapters.postgres.db import Database
from core.adapters.postgres.gate import BEFORE_SEND, queued
from core.adapters.postgres.tables import intents, signals
from core.domain.rows import Stalled
from core.domain.states import IntentState, SignalState, check_intent
from core.domain.steps import RESUMABLE, first_step, resume_step

LOCK = "SELECT pg_try_advisory_xact_lock(hashtext('copytrade.reconcile'))"

# An intent queued behind an earlier unsent intent of the same follower, or behind an
# earlier open signal of the same leader, is waiting its turn (the gate, gate.py), not
# stopped short: after a stop or a forced DRY a long queue is normal and must not count
# towards poison.


class ReconcileStore:
    def __init__(self, db: Database, holding: tuple[str, ...] = BEFORE_SEND) -> None:
        """`holding`: the states of an earlier intent that gate a follower's next one
        (gate.gate_states: past send, or on a two-phase venue past the outcome)."""
        self.db = db
        self.queued = queued(holding)

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
            steps = {st.value: resume_step(st) for st in RESUMABLE}
            rows = conn.execute(
                select(intents.c.signal_pk, intents.c.state, func.max(intents.c.tries))
                .where(intents.c.state.in_(list(steps)), intents.c.updated_at < idle, ~self.queued)
                .group_by(intents.c.signal_pk, intents.c.state)
            ).all()
            poisoned = 0
            if count_tries:
                early = [IntentState.PENDING.value, IntentState.CREATED.value]
                for st in (IntentState.PENDING, IntentState.CREATED):
                    check_intent(st, IntentState.FAILED)
                    failed = [
                        int(i)
                        for (i,) in conn.execute(
                            update(intents)
                            .where(
                                intents.c.state == st.value,
                                intents.c.updated_at < idle,
                                intents.c.tries >= max_tries,
                                intents.c.nonce.is_(None),
                                ~self.queued,
                            )
                            .values(
                                state=IntentState.FAILED.value,
                                reason="poison: stopped short too often",
                                updated_at=func.now(),
                            )
                            .returning(intents.c.id)
                        )
                    ]
                    count_moved(conn, st, IntentState.FAILED, len(failed), "poison")
                    outbox.intents_moved(conn, failed, IntentState.FAILED)
                    poisoned += len(failed)
                conn.execute(
                    update(intents)
                    .where(
                        and_(intents.c.state.in_(early), intents.c.updated_at < idle, ~self.queued)
                    )
                    .values(tries=intents.c.tries + 1)
                )
        first: dict[int, str] = {}
        for pk, state, _tries in rows:
            first[pk] = first_step([steps[state], first.get(pk, steps[state])])
        dispatch = [(int(pk), resume_step(SignalState.ACCEPTED)) for pk in accepted]
        dispatch += sorted(first.items())
        return Stalled(dispatch, int(poisoned))
