"""Signals and the sizing of their intents: intake (idempotent on the signal id, in the
leader's order), expansion into one intent per following (or, for the operator's signal,
one follower), sizing under the followers' and accounts' row locks behind the sequence gate
(its transaction: sizing.py), giving up, finishing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.adapters.postgres import sizing
from core.adapters.postgres.cas import cas_many
from core.adapters.postgres.db import Database
from core.adapters.postgres.gate import BEFORE_SEND
from core.adapters.postgres.registry import follower_from_row, follower_query
from core.adapters.postgres.tables import (
    followers,
    intents,
    policies,
    signals,
)
from core.domain.risk import LeaderOrder
from core.domain.rows import (
    SignalRow,
    SizingInput,
    SizingOutcome,
)
from core.domain.signals import SignalSpec, idempotency_key
from core.domain.sizing import EQUITY_RATIO
from core.domain.states import (
    INTENT_TERMINAL,
    IntentState,
    SignalState,
    check_signal,
)
from core.domain.steps import resume_step
from core.domain.types import CANCEL_ACTION, Action, Side
from core.faults import pause

LEADER_INTAKE_LOCK = 0x6C647273  # advisory lock class for (this, leader id): intake order
# The source of the operator's own signals (`follower close-all`, close on pause/remove):
# closes for one follower that its pause and breaker do not hold (risk.LeaderOrder.forced).
OPERATOR_SOURCE = "operator"


log = logging.getLogger(__name__)


# Seconds since the producer issued the signal (or since intake when it did not say).
_SIGNAL_AGE = func.extract("epoch", func.now()) - func.coalesce(
    signals.c.issued_at, func.extract("epoch", signals.c.created_at)
)
AGE_S = _SIGNAL_AGE.label("age_s")
# An intent's age as a copy (the stuck scan's expiry, `status`): its signal's — but
# copytrade's cancel of a request is no copy, and no max age bounds it (0).
COPY_AGE_S = case((intents.c.action == CANCEL_ACTION, 0), else_=_SIGNAL_AGE).label("age_s")


def signal_from_row(r: Any) -> SignalRow:
    order = LeaderOrder(
        Action(r.action),
        r.asset,
        Side(r.side),
        r.collateral_usd_1e6,
        r.leverage_x,
        fraction_1e18=r.fraction_1e18,
        forced=r.source == OPERATOR_SOURCE,
    )
    return SignalRow(
        r.id,
        r.signal_id,
        r.leader_id,
        order,
        r.price_usd_1e6,
        SignalState(r.state),
        r.reason,
        float(r.age_s),
        r.leader_equity_usd_1e6,
    )


def signal_age(conn: Connection, pk: int) -> float:
    """The signal's age in seconds (since the producer issued it, or since intake)."""
    return signal_age_and_id(conn, pk)[0]


def signal_age_and_id(conn: Connection, pk: int) -> tuple[float, str]:
    """The signal's age in seconds and its external id."""
    age, signal_id = conn.execute(
        select(AGE_S, signals.c.signal_id).where(signals.c.id == pk)
    ).one()
    return float(age), str(signal_id)


class SignalStore:
    """The `SignalStore` and `IntakeStore` ports (core/ports.py)."""

    def __init__(self, db: Database, holding: tuple[str, ...] = BEFORE_SEND) -> None:
        """`holding`: the states of an earlier intent that gate a follower's next one
        (gate.gate_states: past send, or on a two-phase venue past the outcome)."""
        self.db = db
        self.holding = holding

    # -- intake ----------------------------------------------------------------------------
    def insert_signal(
        self, spec: SignalSpec, leader_id: int, source: str, follower_id: int | None = None
    ) -> tuple[str, int]:
        """('accepted' | 'duplicate' | 'conflict', signal pk). `follower_id`: a signal for
        that follower only (the operator's close: source `operator`)."""
        content = spec.content_hash()
        with self.db.tx() as conn:
            # One writer per leader at a time, until commit: a leader's signal ids are then
            # allocated in commit order, so the sequence gate (which orders by id) can never
            # see a later signal of the leader before an earlier one.
            conn.execute(select(func.pg_advisory_xact_lock(LEADER_INTAKE_LOCK, leader_id)))
            pk = conn.execute(
                pg_insert(signals)
                .values(
                    signal_id=spec.signal_id,
                    leader_id=leader_id,
                    action=spec.action.value,
                    asset=spec.asset,
                    side=spec.side.value,
                    collateral_usd_1e6=spec.collateral_usd_1e6,
                    leverage_x=spec.leverage_x,
                    price_usd_1e6=spec.price_usd_1e6,
                    issued_at=spec.issued_at,
                    fraction_1e18=spec.fraction_1e18,
                    cause=spec.cause,
                    leader_equity_usd_1e6=spec.leader_equity_usd_1e6,
                    follower_id=follower_id,
                    content_hash=content,
                    source=source,
                    state=SignalState.ACCEPTED.value,
                )
                .on_conflict_do_nothing(index_elements=[signals.c.signal_id])
                .returning(signals.c.id)
            ).scalar_one_or_none()
            if pk is not None:
                pause("intake.before_commit")
                return "accepted", int(pk)
            row = conn.execute(
                select(signals.c.id, signals.c.content_hash).where(
                    signals.c.signal_id == spec.signal_id
                )
            ).one()
            return ("duplicate" if row.content_hash == content else "conflict"), int(row.id)

    def signal(self, pk: int) -> SignalRow:
        with self.db.tx() as conn:
            row = conn.execute(select(signals, AGE_S).where(signals.c.id == pk)).one()
            return signal_from_row(row)

    def waiting_signals(self) -> list[tuple[int, str]]:
        """(signal pk, first step to re-run) for signals whose intents wait in created or
        signed: what `resume` and the end of a forced DRY re-enqueue."""
        with self.db.tx() as conn:
            rows = conn.execute(
                select(
                    intents.c.signal_pk, func.bool_or(intents.c.state == IntentState.CREATED.value)
                )
                .where(intents.c.state.in_([IntentState.CREATED.value, IntentState.SIGNED.value]))
                .group_by(intents.c.signal_pk)
                .order_by(intents.c.signal_pk)
            ).all()
        return [
            (int(pk), resume_step(IntentState.CREATED if created else IntentState.SIGNED))
            for pk, created in rows
        ]

    # -- validate: one intent per follower of the leader -----------------------------------
    def expand(self, pk: int, max_age_s: int) -> tuple[SignalState, str]:
        """accepted -> dispatched with its intents created, or -> rejected(stale). Returns
        the state and the signal's external id."""
        with self.db.tx() as conn:
            row = conn.execute(
                select(signals, AGE_S).where(signals.c.id == pk).with_for_update()
            ).one()
            state = SignalState(row.state)
            if state is not SignalState.ACCEPTED:
                return state, row.signal_id
            if row.age_s > max_age_s:
                check_signal(state, SignalState.REJECTED)
                conn.execute(
                    update(signals)
                    .where(signals.c.id == pk)
                    .values(state=SignalState.REJECTED.value, reason="stale", updated_at=func.now())
                )
                return SignalState.REJECTED, row.signal_id
            who = select(followers.c.id)
            if row.follower_id is not None:  # the operator's, for one follower
                who = who.where(followers.c.id == row.follower_id)
            else:  # every follower of the leader not removed
                who = who.where(
                    followers.c.leader_id == row.leader_id, followers.c.removed_at.is_(None)
                )
            follower_ids = conn.execute(who).scalars().all()
            if follower_ids:
                conn.execute(
                    pg_insert(intents).on_conflict_do_nothing(
                        index_elements=[intents.c.idempotency_key]
                    ),
                    [
                        {
                            "signal_pk": pk,
                            "follower_id": fid,
                            "leg": 0,
                            "seq": pk,
                            "idempotency_key": idempotency_key(row.signal_id, fid),
                            "state": IntentState.PENDING.value,
                            "action": row.action,
                            "asset": row.asset,
                            "side": row.side,
                        }
                        for fid in follower_ids
                    ],
                )
            check_signal(state, SignalState.DISPATCHED)
            conn.execute(
                update(signals)
                .where(signals.c.id == pk)
                .values(state=SignalState.DISPATCHED.value, updated_at=func.now())
            )
            return SignalState.DISPATCHED, row.signal_id

    # -- size: under the followers' row locks ----------------------------------------------
    def size_pending(
        self,
        pk: int,
        sizer: Callable[[SizingInput], SizingOutcome],
        leader_id: int,
        asset: str,
        by_position: bool = False,
    ) -> tuple[int, int]:
        """Size the signal's pending intents (core/adapters/postgres/sizing.py)."""
        return sizing.size_pending(self.db, self.holding, pk, sizer, leader_id, asset, by_position)

    def equity_accounts(self, pk: int) -> list[tuple[str, str]]:
        """(account, leader address) of the pending intents' equity-ratio followers."""
        with self.db.tx() as conn:
            rows = conn.execute(
                follower_query().where(
                    followers.c.id.in_(
                        select(intents.c.follower_id).where(
                            intents.c.signal_pk == pk,
                            intents.c.state == IntentState.PENDING.value,
                        )
                    ),
                    policies.c.sizing_kind == EQUITY_RATIO,
                )
            ).all()
        return [(follower_from_row(r).account, str(r.leader_address)) for r in rows]

    def reject_pending(self, pk: int, reason: str) -> int:
        """pending -> rejected(reason) for the signal's intents (a signal too old to copy:
        nothing to size, no follower lock needed). Returns how many moved."""
        with self.db.tx() as conn:
            ids = (
                conn.execute(
                    select(intents.c.id).where(
                        intents.c.signal_pk == pk, intents.c.state == IntentState.PENDING.value
                    )
                )
                .scalars()
                .all()
            )
            return cas_many(
                conn,
                IntentState.PENDING,
                IntentState.REJECTED,
                [{"b_id": i} for i in ids],
                reason=reason,
            )

    def give_up(self, pk: int, reason: str) -> int:
        """A step of this signal keeps failing in a way a retry will not fix: its intents
        without a nonce end failed(reason) (signed ones keep their way to the chain or to a
        no-op), and a signal not yet expanded ends rejected(reason). Returns how many
        intents moved."""
        with self.db.tx() as conn:
            state = SignalState(
                conn.execute(
                    select(signals.c.state).where(signals.c.id == pk).with_for_update()
                ).scalar_one()
            )
            if state is SignalState.ACCEPTED:
                check_signal(state, SignalState.REJECTED)
                conn.execute(
                    update(signals)
                    .where(signals.c.id == pk)
                    .values(
                        state=SignalState.REJECTED.value, reason=reason[:200], updated_at=func.now()
                    )
                )
            moved = 0
            for st in (IntentState.PENDING, IntentState.CREATED):
                ids = (
                    conn.execute(
                        select(intents.c.id).where(
                            intents.c.signal_pk == pk, intents.c.state == st.value
                        )
                    )
                    .scalars()
                    .all()
                )
                rows = [{"b_id": i} for i in ids]
                moved += cas_many(
                    conn, st, IntentState.FAILED, rows, intents.c.nonce.is_(None), reason=reason
                )
            return moved

    def next_waiting(self, pk: int) -> int | None:
        """The leader's next signal after `pk` with intents still pending (gated behind
        this one): the signal to wake once this one's intents are past send."""
        with self.db.tx() as conn:
            # The leader's later signals in order, the first with a pending intent: it is
            # usually the very next one (a walk of the later pending intents of every
            # leader grew with the backlog).
            leader = select(signals.c.leader_id).where(signals.c.id == pk).scalar_subquery()
            nxt = conn.execute(
                select(signals.c.id)
                .where(
                    signals.c.leader_id == leader,
                    signals.c.id > pk,
                    select(intents.c.id)
                    .where(
                        intents.c.signal_pk == signals.c.id,
                        intents.c.state == IntentState.PENDING.value,
                    )
                    .exists(),
                )
                .order_by(signals.c.id)
                .limit(1)
            ).scalar()
        return None if nxt is None else int(nxt)

    # -- bookkeeping -----------------------------------------------------------------------
    def finish_signals(self) -> int:
        """dispatched -> done for signals whose intents are all terminal."""
        with self.db.tx() as conn:
            live = (
                select(intents.c.id)
                .where(
                    intents.c.signal_pk == signals.c.id,
                    intents.c.state.not_in([s.value for s in INTENT_TERMINAL]),
                )
                .exists()
            )
            return int(
                conn.execute(
                    update(signals)
                    .where(signals.c.state == SignalState.DISPATCHED.value, ~live)
                    .values(state=SignalState.DONE.value, updated_at=func.now())
                ).rowcount
            )
