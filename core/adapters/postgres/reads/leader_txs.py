"""The leader transactions the watcher recorded and what each became (`leader txs`).

One entry per transaction, newest block first; its actions (a transaction may hold several
orders or fills, numbered within it) each a signal — its id, submitted or still in the
outbox — ignored with the reason, or revoked after a reorg."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.adapters.postgres.db import Database
from core.adapters.postgres.tables import leader_txs, leaders, signals


class LeaderTxReads:
    def __init__(self, db: Database) -> None:
        self.db = db

    def leader_txs(
        self, leader_id: int | None = None, ignored: bool = False, limit: int = 200
    ) -> list[dict[str, Any]]:
        """The newest `limit` transactions (of one leader, only their ignored actions)."""
        where = []
        if leader_id is not None:
            where.append(leader_txs.c.leader_id == leader_id)
        if ignored:
            where.append(leader_txs.c.status == "ignored")
        key = (leader_txs.c.tx_hash, leader_txs.c.leader_id)
        newest = (
            select(*key)
            .where(*where)
            .group_by(*key)
            .order_by(func.max(leader_txs.c.block_number).desc(), func.max(leader_txs.c.id).desc())
            .limit(limit)
            .subquery()
        )
        q = (
            select(
                leader_txs.c.tx_hash,
                leader_txs.c.action_index,
                leader_txs.c.block_number,
                leader_txs.c.status,
                leader_txs.c.reason,
                leader_txs.c.orphaned,
                leader_txs.c.seen_at,
                leader_txs.c.payload["signal_id"].astext.label("outbox_id"),
                leaders.c.address,
                signals.c.signal_id,
            )
            .select_from(
                leader_txs.join(
                    newest,
                    (newest.c.tx_hash == leader_txs.c.tx_hash)
                    & (newest.c.leader_id == leader_txs.c.leader_id),
                )
                .join(leaders, leaders.c.id == leader_txs.c.leader_id)
                .outerjoin(signals, signals.c.id == leader_txs.c.signal_pk)
            )
            .where(*where)
            .order_by(leader_txs.c.block_number.desc(), leader_txs.c.id.desc())
        )
        with self.db.tx() as conn:
            rows = conn.execute(q).mappings().all()
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for r in rows:
            tx = out.setdefault(
                (r["tx_hash"], r["address"]),
                {
                    "block": int(r["block_number"]),
                    "tx_hash": r["tx_hash"],
                    "leader": r["address"],
                    "seen_at": r["seen_at"].isoformat() if r["seen_at"] else None,
                    "actions": [],
                },
            )
            signal = r["status"] == "signal"
            tx["actions"].append(
                {
                    "index": int(r["action_index"]),
                    "status": r["status"],
                    "signal_id": r["signal_id"] or (r["outbox_id"] if signal else None),
                    "submitted": r["signal_id"] is not None,
                    "reason": r["reason"],
                    "orphaned": bool(r["orphaned"]),
                }
            )
        for tx in out.values():
            tx["actions"].sort(key=lambda x: x["index"])
        return list(out.values())
