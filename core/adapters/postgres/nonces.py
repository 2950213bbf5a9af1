"""Signer rows and nonces: a new signer starts at the chain's count once; taking nonces is
one locked take-and-bump (`lock_nonces`, then `bump_nonces` in the same transaction) used
by signing and re-signing (attempts.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.adapters.postgres.cas import bulk_update, cas_many
from core.adapters.postgres.db import Database
from core.adapters.postgres.intents import TO_SIGN_COLS, TO_SIGN_FROM
from core.adapters.postgres.signals import signal_age
from core.adapters.postgres.tables import (
    attempts,
    intents,
    signers,
)
from core.domain.errors import SignerError, TransientError
from core.domain.rows import (
    Signed,
    ToSign,
)
from core.domain.states import (
    IntentState,
)
from core.domain.types import CANCEL_ACTION
from core.faults import pause


def lock_nonces(conn: Connection, addresses: Sequence[str]) -> dict[str, int]:
    """The signers' next nonces, their rows locked (in address order) until the transaction
    ends: the one way a nonce is taken — signing and re-signing both take it here, and
    write it back with `bump_nonces` in the same transaction as the signed bytes."""
    return dict(
        conn.execute(
            select(signers.c.address, signers.c.next_nonce)
            .where(signers.c.address.in_(sorted(addresses)))
            .order_by(signers.c.address)
            .with_for_update()
        )
        .tuples()
        .all()
    )


def bump_nonces(conn: Connection, next_nonce: Mapping[str, int]) -> None:
    """Write back the signers' next nonces taken under `lock_nonces`."""
    if not next_nonce:
        return
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


class NonceStore:
    """The `NonceAllocator` port (core/ports.py)."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
        `created` with its signer's later intents; one whose signing raises SignerError (a
        key disabled since the check) ends failed(signer_error) alone, without a nonce; the
        others are signed. Past `max_age_s`
        (the signal's age read in this transaction, under the locks) no copy is signed:
        those intents end rejected(stale) before a nonce (a cancel of a request is
        signed). Returns (signed, left created)."""
        with self.db.tx() as conn:
            locked_ids = (
                conn.execute(
                    select(intents.c.id)
                    .where(
                        intents.c.signal_pk == pk,
                        intents.c.state == IntentState.CREATED.value,
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
            if max_age_s is not None and signal_age(conn, pk) > max_age_s:
                copies = (
                    conn.execute(
                        select(intents.c.id).where(
                            intents.c.id.in_(locked_ids), intents.c.action != CANCEL_ACTION
                        )
                    )
                    .scalars()
                    .all()
                )
                rows = [{"b_id": i} for i in copies]
                cas_many(conn, IntentState.CREATED, IntentState.REJECTED, rows, reason="stale")
                # copytrade's cancel of a request is no copy: no max age bounds it
                locked_ids = [i for i in locked_ids if i not in set(copies)]
                if not locked_ids:
                    return 0, 0
            todo = [
                ToSign(*r)
                for r in conn.execute(
                    select(*TO_SIGN_COLS)
                    .select_from(TO_SIGN_FROM)
                    .where(intents.c.id.in_(locked_ids))
                    .order_by(intents.c.id)
                )
            ]
            addresses = sorted({t.signer_address for t in todo})
            next_nonce = lock_nonces(conn, addresses)
            intent_rows: list[dict[str, Any]] = []
            attempt_rows: list[dict[str, Any]] = []
            held: set[str] = set()  # signers whose orders wait (their order is kept)
            refused: list[int] = []  # a key that resolves but will not sign: failed alone
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
                except SignerError:
                    refused.append(t.intent_id)  # no nonce taken; the others go on
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
            if refused:
                rows = [{"b_id": i} for i in refused]
                cas_many(conn, IntentState.CREATED, IntentState.FAILED, rows, reason="signer_error")
            if not intent_rows:
                return 0, len(todo) - len(refused)
            # The rows are locked by this transaction: every compare-and-set wins.
            cas_many(
                conn,
                IntentState.CREATED,
                IntentState.SIGNED,
                intent_rows,
                nonce=bindparam("b_nonce"),
                tx_hash=bindparam("b_hash"),
                signer_address=bindparam("b_signer"),
                calldata=bindparam("b_calldata"),
                mode="live",
            )
            conn.execute(insert(attempts), attempt_rows)
            bump_nonces(conn, next_nonce)
            pause("build.before_commit")
            return len(intent_rows), len(todo) - len(intent_rows) - len(refused)
