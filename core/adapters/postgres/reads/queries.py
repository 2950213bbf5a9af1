"""Read models for the CLI and tests (no writes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from core.adapters.postgres.db import Database
from core.adapters.postgres.signals import COPY_AGE_S
from core.adapters.postgres.tables import attempts, intents, signals
from core.domain.attempt_outcomes import attempt_outcomes
from core.domain.errors import NotFound
from core.domain.states import IntentState

INTENT_FIELDS = (
    intents.c.id,
    signals.c.signal_id,
    intents.c.follower_id,
    intents.c.idempotency_key,
    intents.c.state,
    intents.c.nonce,
    intents.c.tx_hash,
    intents.c.reason,
    intents.c.mode,
    intents.c.action,
    intents.c.asset,
    intents.c.side,
    intents.c.collateral_usd_1e6,
    intents.c.leverage_x,
    intents.c.notional_usd_1e6,
    intents.c.acceptable_price_usd_1e6,
    intents.c.signer_address,
    intents.c.block_number,
    intents.c.venue_order_key,
    intents.c.fill_price_usd_1e6,
    intents.c.fill_size_usd_1e6,
    intents.c.executed_block,
    intents.c.follower_equity_usd_1e6,
    intents.c.leader_equity_usd_1e6,
    intents.c.created_at,
    intents.c.sized_at,
    intents.c.sent_at,
    intents.c.updated_at,
)


def _plain(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for k, v in out.items():
        if hasattr(v, "isoformat"):
            out[k] = v.isoformat()
    return out


class Queries:
    def __init__(self, db: Database) -> None:
        self.db = db

    def intents(
        self,
        signal_id: str | None = None,
        state: str | None = None,
        follower_id: int | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        q = select(*INTENT_FIELDS).select_from(intents.join(signals)).order_by(intents.c.id)
        if signal_id is not None:
            q = q.where(signals.c.signal_id == signal_id)
        if state is not None:
            q = q.where(intents.c.state == state)
        if follower_id is not None:
            q = q.where(intents.c.follower_id == follower_id)
        with self.db.tx() as conn:
            return [_plain(r) for r in conn.execute(q.limit(limit))]

    def intent(self, intent_id: int) -> dict[str, Any]:
        with self.db.tx() as conn:
            row = conn.execute(
                select(*INTENT_FIELDS, intents.c.calldata)
                .select_from(intents.join(signals))
                .where(intents.c.id == intent_id)
            ).first()
            if row is None:
                raise NotFound(f"intent {intent_id} does not exist")
            out = _plain(row)
            out["calldata"] = "0x" + bytes(row.calldata).hex() if row.calldata else None
            out["attempts"] = [
                _plain(a)
                for a in conn.execute(
                    select(
                        attempts.c.attempt_no,
                        attempts.c.kind,
                        attempts.c.nonce,
                        attempts.c.tx_hash,
                        attempts.c.max_fee_per_gas,
                        attempts.c.max_priority_fee_per_gas,
                        attempts.c.gas_limit,
                        attempts.c.error,
                        attempts.c.created_at,
                        attempts.c.broadcast_at,
                    )
                    .where(attempts.c.intent_id == intent_id)
                    .order_by(attempts.c.attempt_no)
                )
            ]
            facts = [
                (a["tx_hash"], a["broadcast_at"] is not None, a["error"]) for a in out["attempts"]
            ]
            derived = attempt_outcomes(IntentState(row.state), row.tx_hash, facts)
            for a, outcome in zip(out["attempts"], derived, strict=True):
                for k in ("max_fee_per_gas", "max_priority_fee_per_gas"):
                    a[k] = int(a[k])
                a["outcome"] = outcome  # one per attempt, from its facts (not the label column)
            return out

    def signal(self, signal_id: str) -> dict[str, Any]:
        with self.db.tx() as conn:
            row = conn.execute(select(signals).where(signals.c.signal_id == signal_id)).first()
            if row is None:
                raise NotFound(f"signal {signal_id} does not exist")
            out = _plain(row)
            out["intents_by_state"] = dict(
                conn.execute(
                    select(intents.c.state, func.count())
                    .where(intents.c.signal_pk == row.id)
                    .group_by(intents.c.state)
                )
                .tuples()
                .all()
            )
            return out

    def intents_by_state(self, since_s: float | None = None) -> dict[str, int]:
        """Intents per state; with `since_s`, only those changed in the last `since_s`."""
        q = select(intents.c.state, func.count()).group_by(intents.c.state)
        if since_s is not None:
            age = func.extract("epoch", func.now() - intents.c.updated_at)
            q = q.where(age < since_s)
        with self.db.tx() as conn:
            return dict(conn.execute(q).tuples().all())

    def signed_past_age(self, max_age_s: int) -> int:
        """Signed intents whose signal is past its max age (they wait for a no-op cancel)."""
        with self.db.tx() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(intents.join(signals))
                    .where(intents.c.state == "signed", max_age_s < COPY_AGE_S)
                ).scalar_one()
            )

    def queue_heads(self) -> list[dict[str, Any]]:
        """Per leader, the oldest signal with intents still waiting for the sequence gate:
        how long it has waited, and what it waits behind — the leader's earliest earlier
        signal still open (`behind`), or, when there is none, its followers' earlier orders
        not yet sent."""
        sql = text(
            "WITH heads AS (SELECT s.leader_id, min(s.id) AS pk FROM signals s "
            "JOIN intents i ON i.signal_pk = s.id WHERE i.state = 'pending' "
            "GROUP BY s.leader_id) "
            "SELECT l.address AS leader, s.signal_id, s.state, "
            "extract(epoch FROM now() - s.created_at) AS waiting_s, "
            "(SELECT e.signal_id || ' (' || e.state || ')' FROM signals e "
            " WHERE e.leader_id = s.leader_id AND e.id < s.id "
            " AND (e.state IN ('received', 'accepted') OR e.state = 'dispatched' AND EXISTS "
            "  (SELECT 1 FROM intents x WHERE x.signal_pk = e.id "
            "   AND x.state IN ('pending', 'created', 'signed'))) "
            " ORDER BY e.id LIMIT 1) AS behind "
            "FROM heads h JOIN signals s ON s.id = h.pk JOIN leaders l ON l.id = s.leader_id "
            "ORDER BY waiting_s DESC"
        )
        with self.db.tx() as conn:
            rows = conn.execute(sql).mappings().all()
        return [
            {
                "leader": r["leader"],
                "signal_id": r["signal_id"],
                "waiting_s": round(float(r["waiting_s"]), 3),
                "behind": r["behind"] or "its followers' earlier orders, not yet sent",
            }
            for r in rows
        ]

    def stuck(self, older_than_s: float) -> int:
        """Intents broadcast more than `older_than_s` ago and still not mined."""
        age = func.extract("epoch", func.now() - intents.c.sent_at)
        with self.db.tx() as conn:
            return int(
                conn.execute(
                    select(func.count()).where(
                        intents.c.state.in_(["sent", "held", "cancelling"]), age > older_than_s
                    )
                ).scalar_one()
            )

    def traded_assets(self) -> dict[int, set[str]]:
        """Leader id -> the assets of its signals (what `drift` checks besides the policy's)."""
        with self.db.tx() as conn:
            rows = conn.execute(
                select(signals.c.leader_id, signals.c.asset)
                .where(signals.c.asset.is_not(None))
                .distinct()
            ).all()
        out: dict[int, set[str]] = {}
        for leader_id, asset in rows:
            out.setdefault(int(leader_id), set()).add(asset)
        return out
