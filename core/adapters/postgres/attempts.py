"""Attempts after the first: replacements and no-op cancels, claimed by compare-and-set on
the attempt number (the unique (intent_id, attempt_no) index), written ahead with their
signed bytes in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from core.adapters.postgres.audit_log import write_audit
from core.adapters.postgres.cas import cas_one
from core.adapters.postgres.db import Database
from core.adapters.postgres.nonces import bump_nonces, lock_nonces
from core.adapters.postgres.signals import COPY_AGE_S
from core.adapters.postgres.tables import (
    attempts,
    followers,
    intents,
    nonce_suspects,
    signals,
)
from core.domain.fees import Fees
from core.domain.rows import Newest
from core.domain.states import IntentState, check_intent
from core.domain.types import Wei


class AttemptStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def newest(self, states: tuple[IntentState, ...], intent_id: int | None = None) -> list[Newest]:
        q = (
            select(
                intents.c.id,
                intents.c.state,
                followers.c.signer_ref,
                intents.c.signer_address,
                intents.c.nonce,
                intents.c.calldata,
                attempts.c.id,
                attempts.c.attempt_no,
                attempts.c.kind,
                attempts.c.tx_hash,
                attempts.c.raw_tx,
                attempts.c.max_fee_per_gas,
                attempts.c.max_priority_fee_per_gas,
                attempts.c.gas_limit,
                attempts.c.broadcast_at,
                func.coalesce(func.extract("epoch", func.now() - attempts.c.broadcast_at), 0),
                attempts.c.broadcast_block,
                COPY_AGE_S,
                func.coalesce(func.extract("epoch", func.now() - intents.c.sent_at), 0),
            )
            .select_from(
                intents.join(followers)
                .join(signals)
                .join(attempts, attempts.c.intent_id == intents.c.id)
            )
            .where(intents.c.state.in_([s.value for s in states]))
            .order_by(intents.c.id, attempts.c.attempt_no.desc())
            .distinct(intents.c.id)
        )
        if intent_id is not None:
            q = q.where(intents.c.id == intent_id)
        with self.db.tx() as conn:
            rows = conn.execute(q).all()
        return [
            Newest(
                r[0],
                IntentState(r[1]),
                r[2],
                r[3],
                int(r[4]),
                bytes(r[5] or b""),
                r[6],
                r[7],
                r[8],
                r[9],
                bytes(r[10]),
                Fees(Wei(int(r[11])), Wei(int(r[12]))),
                int(r[13]),
                r[14] is not None,
                float(r[15]),
                r[16],
                float(r[17]),
                float(r[18]),
            )
            for r in rows
        ]

    def claim(
        self,
        n: Newest,
        kind: str,
        tx_hash: str,
        raw: bytes,
        fees: Fees,
        gas: int,
        new_state: IntentState | None = None,
        reason: str | None = None,
    ) -> int | None:
        """Insert attempt n.attempt_no + 1 (and move the intent) in one transaction; the id
        of the new attempt, or None when another scanner claimed that number first."""
        if new_state is not None:
            check_intent(n.state, new_state)
        try:
            with self.db.tx() as conn:
                if new_state is not None and not cas_one(
                    conn, n.intent_id, n.state, new_state, reason=reason
                ):
                    return None
                return int(
                    conn.execute(
                        insert(attempts)
                        .values(
                            intent_id=n.intent_id,
                            attempt_no=n.attempt_no + 1,
                            kind=kind,
                            nonce=n.nonce,
                            tx_hash=tx_hash,
                            raw_tx=raw,
                            max_fee_per_gas=fees.max_fee_per_gas,
                            max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
                            gas_limit=gas,
                        )
                        .returning(attempts.c.id)
                    ).scalar_one()
                )
        except IntegrityError:
            return None

    def claim_state(self, n: Newest, new_state: IntentState) -> bool:
        """Compare-and-set the intent's state only (e.g. sent -> held)."""
        with self.db.tx() as conn:
            return cas_one(conn, n.intent_id, n.state, new_state)

    def mark_broadcast(self, attempt_id: int, block: int, who: str, at: datetime) -> None:
        """The first accepted broadcast: `at` is when its broadcast window opened."""
        with self.db.tx() as conn:
            conn.execute(
                update(attempts)
                .where(attempts.c.id == attempt_id)
                .values(
                    broadcast_at=func.coalesce(attempts.c.broadcast_at, at),
                    broadcast_block=func.coalesce(attempts.c.broadcast_block, block),
                    sent_by=func.coalesce(attempts.c.sent_by, who),
                    outcome="pending",
                    error=None,
                )
            )

    def record_error(self, attempt_id: int, message: str) -> None:
        with self.db.tx() as conn:
            conn.execute(
                update(attempts).where(attempts.c.id == attempt_id).values(error=message[:500])
            )

    def raws(self, hashes: list[str]) -> dict[str, bytes]:
        with self.db.tx() as conn:
            rows = conn.execute(
                select(attempts.c.tx_hash, attempts.c.raw_tx).where(attempts.c.tx_hash.in_(hashes))
            ).all()
        return {h: bytes(r) for h, r in rows}

    def set_block(
        self, intent_id: int, state: IntentState, block: int | None, block_hash: str | None
    ) -> None:
        """Record (or clear) the block of a mined transaction (a no-op, or a request
        re-included elsewhere) without changing the state."""
        with self.db.tx() as conn:
            conn.execute(
                update(intents)
                .where(intents.c.id == intent_id, intents.c.state == state.value)
                .values(block_number=block, block_hash=block_hash)
            )

    def hashes_of(self, intent_ids: Sequence[int]) -> dict[int, list[str]]:
        """Every attempt's hash of each of `intent_ids`, in one read."""
        found: dict[int, list[str]] = {}
        if not intent_ids:
            return found
        with self.db.tx() as conn:
            rows = conn.execute(
                select(attempts.c.intent_id, attempts.c.tx_hash).where(
                    attempts.c.intent_id.in_(list(intent_ids))
                )
            )
            for intent_id, tx_hash in rows:
                found.setdefault(int(intent_id), []).append(tx_hash)
        return found

    # -- nonces seen taken by a transaction not ours ---------------------------------------
    def suspect(self, intent_id: int) -> tuple[str, str] | None:
        """(tx hash, block hash) the previous scan saw take the intent's nonce, or None."""
        with self.db.tx() as conn:
            row = conn.execute(
                select(nonce_suspects.c.tx_hash, nonce_suspects.c.block_hash).where(
                    nonce_suspects.c.intent_id == intent_id
                )
            ).first()
        return None if row is None else (str(row[0]), str(row[1]))

    def suspect_seen(self, intent_id: int, tx_hash: str, block: int, block_hash: str) -> None:
        values = {"tx_hash": tx_hash, "block_number": block, "block_hash": block_hash}
        with self.db.tx() as conn:
            conn.execute(
                pg_insert(nonce_suspects)
                .values(intent_id=intent_id, **values)
                .on_conflict_do_update(
                    index_elements=[nonce_suspects.c.intent_id],
                    set_={**values, "seen_at": func.now()},
                )
            )

    def forget_suspect(self, intent_id: int) -> None:
        with self.db.tx() as conn:
            conn.execute(delete(nonce_suspects).where(nonce_suspects.c.intent_id == intent_id))

    def resign(
        self, n: Newest, sign: Callable[[int], tuple[str, bytes]], fees: Fees, outside_nonce: int
    ) -> tuple[int, int] | None:
        """Our nonce was consumed on chain by a transaction that is not ours: move the intent
        to the signer's next free nonce (signed -> signed / sent -> signed), write the new
        bytes ahead and record the outside use. (new nonce, attempt id), or None when the
        intent moved meanwhile."""
        check_intent(n.state, IntentState.SIGNED)
        with self.db.tx() as conn:
            nonce = lock_nonces(conn, [n.signer_address])[n.signer_address]
            tx_hash, raw = sign(nonce)
            moved = cas_one(
                conn,
                n.intent_id,
                n.state,
                IntentState.SIGNED,
                intents.c.nonce == outside_nonce,
                nonce=nonce,
                tx_hash=tx_hash,
                reason=f"re-signed: nonce {outside_nonce} used outside the system",
            )
            if not moved:
                return None  # nothing was written: the commit changes nothing
            attempt_id = conn.execute(
                insert(attempts)
                .values(
                    intent_id=n.intent_id,
                    attempt_no=n.attempt_no + 1,
                    kind="order",
                    nonce=nonce,
                    tx_hash=tx_hash,
                    raw_tx=raw,
                    max_fee_per_gas=fees.max_fee_per_gas,
                    max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
                    gas_limit=n.gas_limit,
                )
                .returning(attempts.c.id)
            ).scalar_one()
            bump_nonces(conn, {n.signer_address: nonce + 1})
            write_audit(
                conn,
                "system",
                "nonce.used_outside",
                None,
                signer=n.signer_address,
                nonce=outside_nonce,
                intent_id=n.intent_id,
                new_nonce=nonce,
            )
            return nonce, int(attempt_id)

    def sent_after_resign(
        self, intent_id: int, attempt_id: int, block: int, who: str, at: datetime
    ) -> None:
        self.mark_broadcast(attempt_id, block, who, at)
        with self.db.tx() as conn:
            cas_one(
                conn,
                intent_id,
                IntentState.SIGNED,
                IntentState.SENT,
                sent_at=func.clock_timestamp(),
            )
