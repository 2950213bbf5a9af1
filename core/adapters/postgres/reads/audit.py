"""Read-only queries for `copytrade verify` (what we assigned, what we intended) and
`copytrade audit` (the audit log)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from core.adapters.postgres.db import Database
from core.adapters.postgres.signals import AGE_S
from core.adapters.postgres.tables import audit_log, intents, signals, signers
from core.domain.rows import Assigned


class AuditQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    def signers(self) -> dict[str, int]:
        with self.db.tx() as conn:
            rows = conn.execute(select(signers.c.address, signers.c.next_nonce)).all()
        return {a: int(n) for a, n in rows}

    def assigned(self) -> list[Assigned]:
        with self.db.tx() as conn:
            rows = conn.execute(
                select(
                    intents.c.id,
                    intents.c.signer_address,
                    intents.c.nonce,
                    intents.c.state,
                    intents.c.idempotency_key,
                    intents.c.tx_hash,
                ).where(intents.c.nonce.is_not(None))
            ).all()
        return [Assigned(r[0], r[1], int(r[2]), r[3], r[4], r[5]) for r in rows]

    def used_outside(self) -> set[tuple[str, int]]:
        """(signer, nonce) pairs recorded as consumed by a transaction that is not ours."""
        with self.db.tx() as conn:
            rows = (
                conn.execute(
                    select(audit_log.c.details).where(audit_log.c.action == "nonce.used_outside")
                )
                .scalars()
                .all()
            )
        return {(d["signer"], int(d["nonce"])) for d in rows}

    def keys(self) -> dict[str, tuple[int, str]]:
        """idempotency key -> (intent id, state) for every intent."""
        with self.db.tx() as conn:
            rows = conn.execute(
                select(intents.c.idempotency_key, intents.c.id, intents.c.state)
            ).all()
        return {k: (i, s) for k, i, s in rows}

    def overdue_signals(self, max_age_s: float) -> list[tuple[str, str]]:
        """(signal_id, state) of signals not terminal and older than their max age."""
        with self.db.tx() as conn:
            rows = conn.execute(
                select(signals.c.signal_id, signals.c.state).where(
                    signals.c.state.in_(["received", "accepted", "dispatched"]), max_age_s < AGE_S
                )
            ).all()
        return [(a, b) for a, b in rows]

    def audit(
        self, limit: int = 100, since: datetime | None = None, action: str | None = None
    ) -> Sequence[dict[str, Any]]:
        """The newest `limit` audit entries (at or after `since`; actions starting with
        `action`), oldest first."""
        q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if since is not None:
            q = q.where(audit_log.c.at >= since)
        if action:
            q = q.where(audit_log.c.action.startswith(action, autoescape=True))
        with self.db.tx() as conn:
            rows = conn.execute(q).all()
        return [dict(r._mapping) for r in reversed(rows)]
