"""What watching applies: the in-flight intents with every attempt's hash, receipts ->
mined -> confirmed, the winning attempt marked, the others replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import aliased

from core.adapters.postgres import outbox
from core.adapters.postgres.audit_log import write_audit
from core.adapters.postgres.cas import bulk_update, cas_one, count_moved
from core.adapters.postgres.db import Database
from core.adapters.postgres.tables import (
    attempts,
    followers,
    intents,
    signals,
)
from core.domain.rows import (
    AwaitingOutcome,
    InFlightIntent,
    Mined,
)
from core.domain.signals import idempotency_key
from core.domain.states import (
    IntentState,
    check_intent,
)
from core.domain.types import CANCEL_ACTION

# copytrade's cancels of a request: legs 1..MAX_CANCELS of the request's signal and
# follower. A cancel that ended without effect (rejected, failed, no-op'd, reverted) is
# asked again with the next leg, up to MAX_CANCELS; one recorded dry_run is not (DRY).
FIRST_CANCEL_LEG = 1
MAX_CANCELS = 3
DEAD_CANCEL = tuple(
    s.value
    for s in (IntentState.REJECTED, IntentState.FAILED, IntentState.CANCELLED, IntentState.REVERTED)
)


def _cancel_legs(legs: Any, request: Any) -> Any:
    return and_(
        legs.c.signal_pk == request.c.signal_pk,
        legs.c.follower_id == request.c.follower_id,
        legs.c.leg >= FIRST_CANCEL_LEG,
    )


def _attempt_outcomes(conn: Connection, hashes: Sequence[str], winners: Sequence[str]) -> None:
    """The attempts in `hashes`: `mined` if among `winners`, else `replaced`."""
    conn.execute(
        update(attempts)
        .where(attempts.c.tx_hash.in_(list(hashes)))
        .values(outcome=case((attempts.c.tx_hash.in_(list(winners)), "mined"), else_="replaced"))
    )


class ReceiptStore:
    """The `InFlightStore` port (core/ports.py)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- watch -----------------------------------------------------------------------------
    def transition(
        self, intent_id: int, current: IntentState, new: IntentState, **values: Any
    ) -> bool:
        """Compare-and-set one intent; True when this caller won."""
        with self.db.tx() as conn:
            return cas_one(conn, intent_id, current, new, **values)

    def in_flight(self) -> list[InFlightIntent]:
        watched = [
            IntentState.SENT.value,
            IntentState.HELD.value,
            IntentState.MINED.value,
            IntentState.CANCELLING.value,
        ]
        by_no = attempts.c.attempt_no
        with self.db.tx() as conn:
            rows = conn.execute(
                select(
                    intents.c.id,
                    intents.c.state,
                    func.array_agg(aggregate_order_by(attempts.c.tx_hash, by_no)),
                    func.array_agg(aggregate_order_by(attempts.c.kind, by_no)),
                    func.array_agg(aggregate_order_by(attempts.c.broadcast_at.is_not(None), by_no)),
                    intents.c.block_number,
                    intents.c.signer_address,
                    intents.c.calldata,
                    intents.c.sent_at,
                    intents.c.action,
                )
                .select_from(intents.join(attempts, attempts.c.intent_id == intents.c.id))
                .where(intents.c.state.in_(watched))
                .group_by(intents.c.id)
            ).all()
        return [
            InFlightIntent(
                r[0],
                IntentState(r[1]),
                tuple(r[2]),
                tuple(r[3]),
                tuple(r[4]),
                r[5],
                r[6],
                bytes(r[7] or b""),
                r[8],
                r[9],
            )
            for r in rows
        ]

    def mark_mined(self, rows: Sequence[Mined]) -> set[int]:
        """-> mined for many intents (from sent, held or cancelling), one statement per
        source state; their attempts marked mined / replaced. Returns the ids this caller
        moved (a compare-and-set another watcher won is not included)."""
        won: set[int] = set()
        if not rows:
            return won
        with self.db.tx() as conn:
            for st in {r.state for r in rows}:
                check_intent(st, IntentState.MINED)
                group = [r.params() for r in rows if r.state is st]
                stmt = bulk_update(
                    intents,
                    intents.c.id,
                    "b_id",
                    group,
                    intents.c.state == st.value,
                    state=IntentState.MINED.value,
                    updated_at=func.clock_timestamp(),
                    tx_hash=bindparam("b_hash"),
                    block_number=bindparam("b_block"),
                    block_hash=bindparam("b_bhash"),
                ).returning(intents.c.id)
                ids = set(conn.execute(stmt).scalars())
                count_moved(conn, st, IntentState.MINED, len(ids))
                won |= ids
            moved = [r for r in rows if r.intent_id in won]
            if moved:
                hashes = [h for r in moved for h in r.hashes]
                _attempt_outcomes(conn, hashes, [r.tx_hash for r in moved])
        return won

    def confirm(self, rows: Sequence[Mined]) -> list[tuple[int, datetime | None]]:
        """mined -> confirmed for many intents (receipt status 1, N blocks deep) in one
        statement; returns (id, sent_at) of those this caller moved."""
        if not rows:
            return []
        with self.db.tx() as conn:
            stmt = bulk_update(
                intents,
                intents.c.id,
                "b_id",
                [r.params() for r in rows],
                intents.c.state == IntentState.MINED.value,
                state=IntentState.CONFIRMED.value,
                updated_at=func.clock_timestamp(),
                block_number=bindparam("b_block"),
                block_hash=bindparam("b_bhash"),
            ).returning(intents.c.id, intents.c.sent_at)
            out = [(int(i), at) for i, at in conn.execute(stmt)]
            count_moved(conn, IntentState.MINED, IntentState.CONFIRMED, len(out))
            outbox.intents_moved(conn, [i for i, _ in out], IntentState.CONFIRMED)
        return out

    # -- a two-phase venue's outcomes (the `OutcomeStore` port) ---------------------------
    def awaiting_outcome(self) -> list[AwaitingOutcome]:
        """Requests (never copytrade's own cancels) whose outcome is not final, each with
        whether its cancel exists already."""
        waiting = [s.value for s in (IntentState.MINED, IntentState.FROZEN, IntentState.EXECUTED)]
        c = intents.c
        leg = aliased(intents)
        live = select(leg.c.id).where(_cancel_legs(leg, intents), leg.c.state.not_in(DEAD_CANCEL))
        tries = select(func.count()).where(_cancel_legs(leg, intents)).scalar_subquery()
        asked = or_(live.exists(), tries >= MAX_CANCELS)
        with self.db.tx() as conn:
            rows = conn.execute(
                select(
                    c.id,
                    c.state,
                    func.coalesce(followers.c.subaccount_of, c.signer_address),
                    c.tx_hash,
                    c.block_number,
                    c.venue_order_key,
                    c.executed_block,
                    c.executed_block_hash,
                    c.signal_pk,
                    asked,
                )
                .select_from(intents.join(followers, followers.c.id == c.follower_id))
                .where(
                    c.state.in_(waiting),
                    c.tx_hash.is_not(None),
                    c.block_number.is_not(None),
                    c.action != CANCEL_ACTION,
                )
                .order_by(c.seq, c.id)  # confirmed (and reported) in the leader's order
            ).all()
        return [
            AwaitingOutcome(r[0], IntentState(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9])
            for r in rows
        ]

    def set_order_key(self, intent_id: int, key: str) -> None:
        with self.db.tx() as conn:
            conn.execute(
                update(intents)
                .where(intents.c.id == intent_id, intents.c.venue_order_key.is_(None))
                .values(venue_order_key=key)
            )

    def ask_cancel(self, intent_id: int, order_key: str) -> int | None:
        """The `OutcomeStore` port's ask_cancel: the request row locked and still mined
        with this key, its cancel inserted `created` — unless one is live, done or
        recorded dry_run, or MAX_CANCELS were asked (the next leg's idempotency key: a
        second asker, another watcher, inserts nothing). No notional, so it is never
        exposure; audited."""
        c = intents.c
        with self.db.tx() as conn:
            r = conn.execute(
                select(c.signal_pk, c.follower_id, c.seq, c.asset, c.side, signals.c.signal_id)
                .select_from(intents.join(signals, signals.c.id == c.signal_pk))
                .where(
                    and_(
                        c.id == intent_id,
                        c.state == IntentState.MINED.value,
                        c.venue_order_key == order_key,
                    )
                )
                .with_for_update(of=intents)
            ).first()
            if r is None:
                return None
            legs = conn.execute(
                select(c.leg, c.state).where(
                    c.signal_pk == r.signal_pk,
                    c.follower_id == r.follower_id,
                    c.leg >= FIRST_CANCEL_LEG,
                )
            ).all()  # read under the request's lock: a second asker sees the first's leg
            if len(legs) >= MAX_CANCELS or any(st not in DEAD_CANCEL for _, st in legs):
                return None
            n = max((int(lg) for lg, _ in legs), default=0) + 1
            got = conn.execute(
                pg_insert(intents)
                .values(
                    signal_pk=r.signal_pk,
                    follower_id=r.follower_id,
                    leg=n,
                    seq=r.seq,
                    idempotency_key=idempotency_key(r.signal_id, r.follower_id, n),
                    state=IntentState.CREATED.value,
                    reason=f"cancel of intent {intent_id}: no keeper handled it",
                    action=CANCEL_ACTION,
                    asset=r.asset,
                    side=r.side,
                    collateral_usd_1e6=0,
                    leverage_x=0,
                    notional_usd_1e6=0,
                    acceptable_price_usd_1e6=0,
                    venue_order_key=order_key,
                    sized_at=func.now(),
                )
                .on_conflict_do_nothing(index_elements=[c.idempotency_key])
                .returning(c.id)
            ).first()
            if got is None:
                return None
            write_audit(
                conn,
                "system",
                "intent.cancel_request",
                "no keeper executed or cancelled the request before the venue's expiry",
                request_intent_id=intent_id,
                cancel_intent_id=int(got[0]),
                attempt=n,
                order_key=order_key,
            )
        return int(r.signal_pk)

    def mark_mined_attempt(self, hashes: Sequence[str], winner: str) -> None:
        """One statement: the mined attempt `mined`, every other attempt `replaced`."""
        with self.db.tx() as conn:
            _attempt_outcomes(conn, hashes, [winner])
