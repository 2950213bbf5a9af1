"""Nonces, write-ahead of signed bytes, broadcasts and receipts.

A nonce is taken from the signer's row under a row lock in the same transaction that
writes the signed bytes ahead and moves the intent created -> signed. If that transaction
rolls back, the nonce was never taken: no gap.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, insert, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.adapters.postgres.cas import bulk_update, cas_many, cas_one, count_moved
from core.adapters.postgres.db import Database
from core.adapters.postgres.pipeline_store import AGE_S
from core.adapters.postgres.tables import attempts, followers, intents, signals, signers
from core.domain.errors import TransientError
from core.domain.rows import InFlight, Mined, Signed, ToSend, ToSign
from core.domain.states import IntentState, check_intent
from core.faults import pause

I = IntentState


_TO_SIGN_COLS = (
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
)


class TxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def created(self, pk: int) -> list[ToSign]:
        """The signal's intents waiting to be signed (no lock: a preview for the caller)."""
        return self.created_and_age(pk)[0]

    def created_and_age(self, pk: int) -> tuple[list[ToSign], float, str]:
        """`created`, the signal's age in seconds and its id, read in one transaction."""
        with self.db.tx() as conn:
            age, signal_id = _age_and_id(conn, pk)
            rows = conn.execute(
                select(*_TO_SIGN_COLS)
                .select_from(intents.join(followers))
                .where(intents.c.signal_pk == pk, intents.c.state == I.CREATED.value)
                .order_by(intents.c.id)
            ).all()
        return [ToSign(*r) for r in rows], age, signal_id

    def missing_signers(self, addresses: Iterable[str]) -> list[str]:
        wanted = set(addresses)
        with self.db.tx() as conn:
            have = set(
                conn.execute(
                    select(signers.c.address).where(signers.c.address.in_(wanted))
                ).scalars()
            )
        return sorted(wanted - have)

    def init_signers(self, first_nonces: dict[str, int], chain_id: int) -> None:
        """Record a new signer at the chain's nonce, once (an existing row is never reset)."""
        if not first_nonces:
            return
        with self.db.tx() as conn:
            conn.execute(
                pg_insert(signers).on_conflict_do_nothing(index_elements=[signers.c.address]),
                [
                    {"address": a, "chain_id": chain_id, "next_nonce": n}
                    for a, n in first_nonces.items()
                ],
            )

    def sign_created(
        self,
        pk: int,
        sign: Callable[[ToSign, int], Signed],
        checked: Collection[int],
        skip: AbstractSet[int] = frozenset(),
        max_age_s: float | None = None,
    ) -> tuple[int, int]:
        """created -> signed for the signal's intents in `checked` — exactly the ones whose
        checks (mode, cohort, signer, gas) the caller ran and passed; an intent sized since
        then is left for its own check. Nonce, raw bytes and hash are written ahead. An
        intent in `skip`, or whose signing raises TransientError (a throttled KMS), stays
        `created` with its signer's later intents; the others are signed. Past `max_age_s`
        (the signal's age read in this transaction, under the locks) nothing is signed:
        the intents end rejected(stale) before a nonce. Returns (signed, left created)."""
        with self.db.tx() as conn:
            locked_ids = (
                conn.execute(
                    select(intents.c.id)
                    .where(
                        intents.c.signal_pk == pk,
                        intents.c.state == I.CREATED.value,
                        intents.c.id.in_(list(checked)),
                    )
                    .order_by(intents.c.id)
                    .with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
            if not locked_ids:
                return 0, 0
            if max_age_s is not None and _age(conn, pk) > max_age_s:
                rows = [{"b_id": i} for i in locked_ids]
                cas_many(conn, I.CREATED, I.REJECTED, rows, reason="stale")
                return 0, 0
            todo = [
                ToSign(*r)
                for r in conn.execute(
                    select(*_TO_SIGN_COLS)
                    .select_from(intents.join(followers))
                    .where(intents.c.id.in_(locked_ids))
                    .order_by(intents.c.id)
                )
            ]
            addresses = sorted({t.signer_address for t in todo})
            next_nonce = dict(
                conn.execute(
                    select(signers.c.address, signers.c.next_nonce)
                    .where(signers.c.address.in_(addresses))
                    .order_by(signers.c.address)
                    .with_for_update()
                )
                .tuples()
                .all()
            )
            intent_rows: list[dict[str, Any]] = []
            attempt_rows: list[dict[str, Any]] = []
            held: set[str] = set()  # signers whose orders wait (their order is kept)
            for t in todo:
                if t.signer_address in held or t.intent_id in skip:
                    held.add(t.signer_address)
                    continue
                nonce = next_nonce[t.signer_address]
                try:
                    s = sign(t, nonce)
                except TransientError:
                    held.add(t.signer_address)
                    continue
                next_nonce[t.signer_address] = nonce + 1
                intent_rows.append(
                    {
                        "b_id": t.intent_id,
                        "b_nonce": nonce,
                        "b_hash": s.tx_hash,
                        "b_signer": t.signer_address,
                        "b_calldata": s.calldata,
                    }
                )
                attempt_rows.append(
                    {
                        "intent_id": t.intent_id,
                        "attempt_no": 1,
                        "kind": "order",
                        "nonce": nonce,
                        "tx_hash": s.tx_hash,
                        "raw_tx": s.raw,
                        "max_fee_per_gas": s.max_fee_per_gas,
                        "max_priority_fee_per_gas": s.max_priority_fee_per_gas,
                        "gas_limit": s.gas_limit,
                    }
                )
            if not intent_rows:
                return 0, len(todo)
            # The rows are locked by this transaction: every compare-and-set wins.
            cas_many(
                conn,
                I.CREATED,
                I.SIGNED,
                intent_rows,
                nonce=bindparam("b_nonce"),
                tx_hash=bindparam("b_hash"),
                signer_address=bindparam("b_signer"),
                calldata=bindparam("b_calldata"),
                mode="live",
            )
            conn.execute(insert(attempts), attempt_rows)
            conn.execute(
                bulk_update(
                    signers,
                    signers.c.address,
                    "b_addr",
                    [{"b_addr": a, "b_next": n} for a, n in next_nonce.items()],
                    next_nonce=bindparam("b_next"),
                    updated_at=func.now(),
                )
            )
            pause("build.before_commit")
            return len(intent_rows), len(todo) - len(intent_rows)

    def record_dry_run(self, results: dict[int, tuple[bytes, str | None]]) -> int:
        """created -> dry_run with the calldata LIVE would have sent (no nonce, no signature)."""
        if not results:
            return 0
        rows = [{"b_id": k, "b_data": d, "b_reason": r} for k, (d, r) in results.items()]
        with self.db.tx() as conn:
            return cas_many(
                conn,
                I.CREATED,
                I.DRY_RUN,
                rows,
                calldata=bindparam("b_data"),
                reason=bindparam("b_reason"),
                mode="dry",
            )

    def fail(
        self,
        failures: dict[int, str],
        from_state: IntentState = I.CREATED,
        to: IntentState = I.FAILED,
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
            age, signal_id = _age_and_id(conn, pk)
            rows = conn.execute(
                select(intents.c.id, attempts.c.id, attempts.c.tx_hash, attempts.c.raw_tx)
                .select_from(intents.join(attempts, attempts.c.intent_id == intents.c.id))
                .where(intents.c.signal_pk == pk, intents.c.state == I.SIGNED.value)
                .order_by(intents.c.id, attempts.c.attempt_no.desc())
                .distinct(intents.c.id)
            ).all()
        return [ToSend(r[0], r[1], r[2], bytes(r[3])) for r in rows], age, signal_id

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
            n = cas_many(conn, I.SIGNED, I.SENT, rows, sent_at=func.clock_timestamp())
            age = 0.0
            if signal_pk is not None:
                since = func.extract("epoch", func.clock_timestamp() - signals.c.created_at)
                age = float(
                    conn.execute(select(since).where(signals.c.id == signal_pk)).scalar_one()
                )
            pause("send.before_commit")
            return n, age

    # -- watch -----------------------------------------------------------------------------
    def in_flight(self) -> list[InFlight]:
        watched = [I.SENT.value, I.HELD.value, I.MINED.value, I.CANCELLING.value]
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
                )
                .select_from(intents.join(attempts, attempts.c.intent_id == intents.c.id))
                .where(intents.c.state.in_(watched))
                .group_by(intents.c.id)
            ).all()
        return [
            InFlight(
                r[0],
                I(r[1]),
                tuple(r[2]),
                tuple(r[3]),
                tuple(r[4]),
                r[5],
                r[6],
                bytes(r[7] or b""),
                r[8],
            )
            for r in rows
        ]

    def transition(
        self, intent_id: int, current: IntentState, new: IntentState, **values: Any
    ) -> bool:
        """Compare-and-set one intent; True when this caller won."""
        with self.db.tx() as conn:
            return cas_one(conn, intent_id, current, new, **values)

    def mark_mined(self, rows: Sequence[Mined]) -> set[int]:
        """-> mined for many intents (from sent, held or cancelling), one statement per
        source state; their attempts marked mined / replaced. Returns the ids this caller
        moved (a compare-and-set another watcher won is not included)."""
        won: set[int] = set()
        if not rows:
            return won
        with self.db.tx() as conn:
            for st in {r.state for r in rows}:
                check_intent(st, I.MINED)
                group = [r.params() for r in rows if r.state is st]
                stmt = bulk_update(
                    intents,
                    intents.c.id,
                    "b_id",
                    group,
                    intents.c.state == st.value,
                    state=I.MINED.value,
                    updated_at=func.clock_timestamp(),
                    tx_hash=bindparam("b_hash"),
                    block_number=bindparam("b_block"),
                    block_hash=bindparam("b_bhash"),
                ).returning(intents.c.id)
                ids = set(conn.execute(stmt).scalars())
                count_moved(conn, st, I.MINED, len(ids))
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
                intents.c.state == I.MINED.value,
                state=I.CONFIRMED.value,
                updated_at=func.clock_timestamp(),
                block_number=bindparam("b_block"),
                block_hash=bindparam("b_bhash"),
            ).returning(intents.c.id, intents.c.sent_at)
            out = [(int(i), at) for i, at in conn.execute(stmt)]
            count_moved(conn, I.MINED, I.CONFIRMED, len(out))
        return out

    def mark_mined_attempt(self, hashes: Sequence[str], winner: str) -> None:
        """One statement: the mined attempt `mined`, every other attempt `replaced`."""
        with self.db.tx() as conn:
            _attempt_outcomes(conn, hashes, [winner])


def _age(conn: Connection, pk: int) -> float:
    """The signal's age in seconds (since the producer issued it, or since intake)."""
    return _age_and_id(conn, pk)[0]


def _age_and_id(conn: Connection, pk: int) -> tuple[float, str]:
    """The signal's age in seconds and its external id."""
    age, signal_id = conn.execute(
        select(AGE_S, signals.c.signal_id).where(signals.c.id == pk)
    ).one()
    return float(age), str(signal_id)


def _attempt_outcomes(conn: Connection, hashes: Sequence[str], winners: Sequence[str]) -> None:
    """The attempts in `hashes`: `mined` if among `winners`, else `replaced`."""
    conn.execute(
        update(attempts)
        .where(attempts.c.tx_hash.in_(list(hashes)))
        .values(outcome=case((attempts.c.tx_hash.in_(list(winners)), "mined"), else_="replaced"))
    )
