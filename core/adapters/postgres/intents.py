"""Intents after sizing: checked (dry-run), failed or rejected, sent; single compare-and-set
transitions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import BigInteger, Numeric, bindparam, case, cast, func, select, update

from core.adapters.postgres.cas import cas_many
from core.adapters.postgres.db import Database
from core.adapters.postgres.signals import signal_age_and_id
from core.adapters.postgres.tables import (
    attempts,
    followers,
    intents,
    signals,
)
from core.domain.rows import (
    ToSend,
    ToSign,
)
from core.domain.states import (
    IntentState,
)
from core.domain.types import CANCEL_ACTION
from core.faults import pause

TO_SIGN_COLS = (
    intents.c.id,
    intents.c.follower_id,
    followers.c.signer_ref,
    followers.c.address,
    intents.c.idempotency_key,
    intents.c.action,
    intents.c.asset,
    intents.c.side,
    intents.c.collateral_usd_1e6,
    intents.c.leverage_x,
    intents.c.acceptable_price_usd_1e6,
    followers.c.in_cohort,
    intents.c.venue_order_key,
    # the fraction of the venue's position the order moves: the signal's (a decrease in
    # proportion) times the following's share of a position its account's followings share
    case(
        (intents.c.share_1e18.is_(None), signals.c.fraction_1e18),
        (signals.c.fraction_1e18.is_(None), intents.c.share_1e18),
        else_=cast(
            func.floor(cast(signals.c.fraction_1e18, Numeric) * intents.c.share_1e18 / 10**18),
            BigInteger,
        ),
    ).label("fraction_1e18"),
    followers.c.subaccount_of,
    intents.c.share_1e18.is_not(None).label("shared"),
    intents.c.notional_usd_1e6,
)
# What TO_SIGN_COLS are read from (the signal: a decrease's fraction).
TO_SIGN_FROM = intents.join(followers).join(signals, signals.c.id == intents.c.signal_pk)


class IntentStore:
    """The `IntentStore` port (core/ports.py)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def created_and_age(self, pk: int) -> tuple[list[ToSign], float, str]:
        """`created`, the signal's age in seconds and its id, read in one transaction."""
        with self.db.tx() as conn:
            age, signal_id = signal_age_and_id(conn, pk)
            rows = conn.execute(
                select(*TO_SIGN_COLS)
                .select_from(TO_SIGN_FROM)
                .where(intents.c.signal_pk == pk, intents.c.state == IntentState.CREATED.value)
                .order_by(intents.c.id)
            ).all()
        return [ToSign(*r) for r in rows], age, signal_id

    def unmined(self, signers: Sequence[str]) -> dict[str, int]:
        if not signers:
            return {}
        waiting = [s.value for s in (IntentState.SIGNED, IntentState.SENT, IntentState.HELD)]
        with self.db.tx() as conn:
            rows = conn.execute(
                select(intents.c.signer_address, func.count())
                .where(intents.c.signer_address.in_(list(signers)), intents.c.state.in_(waiting))
                .group_by(intents.c.signer_address)
            ).all()
        return {str(a): int(n) for a, n in rows}

    def record_dry_run(self, results: dict[int, tuple[bytes, str | None]]) -> int:
        """created -> dry_run with the calldata LIVE would have sent (no nonce, no signature)."""
        if not results:
            return 0
        rows = [{"b_id": k, "b_data": d, "b_reason": r} for k, (d, r) in results.items()]
        with self.db.tx() as conn:
            return cas_many(
                conn,
                IntentState.CREATED,
                IntentState.DRY_RUN,
                rows,
                calldata=bindparam("b_data"),
                reason=bindparam("b_reason"),
                mode="dry",
            )

    def fail(
        self,
        failures: dict[int, str],
        from_state: IntentState = IntentState.CREATED,
        to: IntentState = IntentState.FAILED,
    ) -> None:
        """-> failed (or rejected) with a reason; only legal before a nonce is assigned."""
        if not failures:
            return
        rows = [{"b_id": k, "b_reason": v} for k, v in failures.items()]
        with self.db.tx() as conn:
            cas_many(
                conn, from_state, to, rows, intents.c.nonce.is_(None), reason=bindparam("b_reason")
            )

    # -- send ------------------------------------------------------------------------------
    def signed(self, pk: int) -> list[ToSend]:
        """The signal's signed intents with their newest attempt's bytes."""
        return self.signed_and_age(pk)[0]

    def signed_and_age(self, pk: int) -> tuple[list[ToSend], float, str]:
        """`signed`, the signal's age in seconds and its id, read in one transaction."""
        with self.db.tx() as conn:
            age, signal_id = signal_age_and_id(conn, pk)
            rows = conn.execute(
                select(
                    intents.c.id,
                    attempts.c.id,
                    attempts.c.tx_hash,
                    attempts.c.raw_tx,
                    intents.c.action == CANCEL_ACTION,
                )
                .select_from(intents.join(attempts, attempts.c.intent_id == intents.c.id))
                .where(intents.c.signal_pk == pk, intents.c.state == IntentState.SIGNED.value)
                .order_by(intents.c.id, attempts.c.attempt_no.desc())
                .distinct(intents.c.id)
            ).all()
        return [ToSend(r[0], r[1], r[2], bytes(r[3]), bool(r[4])) for r in rows], age, signal_id

    def mark_sent(
        self,
        sent: list[ToSend],
        errors: dict[int, str],
        at: Mapping[int, datetime],
        sent_by: str = "",
        block: int = 0,
        signal_pk: int | None = None,
    ) -> tuple[int, float]:
        """signed -> sent for the accepted broadcasts (`at`: per attempt id, when its chunk
        went out — the database time its window's guard read right before it); errors
        recorded on their attempts. Returns (how many moved, seconds since the signal was
        accepted — 0 without `signal_pk`)."""
        with self.db.tx() as conn:
            if errors:
                conn.execute(
                    update(attempts)
                    .where(attempts.c.id == bindparam("b_id"))
                    .values(error=bindparam("b_err")),
                    [{"b_id": k, "b_err": v[:500]} for k, v in errors.items()],
                )
            if not sent:
                return 0, 0.0
            by_time: dict[datetime, list[int]] = {}
            for s in sent:
                by_time.setdefault(at[s.attempt_id], []).append(s.attempt_id)
            for when, ids in by_time.items():  # one statement per chunk
                conn.execute(
                    update(attempts)
                    .where(attempts.c.id.in_(ids))
                    .values(
                        broadcast_at=func.coalesce(attempts.c.broadcast_at, when),
                        sent_by=func.coalesce(attempts.c.sent_by, sent_by or None),
                        broadcast_block=func.coalesce(attempts.c.broadcast_block, block or None),
                        outcome="pending",
                        error=None,
                    )
                )
            rows = [{"b_id": s.intent_id} for s in sent]
            n = cas_many(
                conn, IntentState.SIGNED, IntentState.SENT, rows, sent_at=func.clock_timestamp()
            )
            age = 0.0
            if signal_pk is not None:
                since = func.extract("epoch", func.clock_timestamp() - signals.c.created_at)
                age = float(
                    conn.execute(select(since).where(signals.c.id == signal_pk)).scalar_one()
                )
            pause("send.before_commit")
            return n, age
