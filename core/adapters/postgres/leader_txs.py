"""The leader watcher's records: per-leader cursors, the blocks read (for reorg checks),
and leader transactions (an outbox of signals to submit, ignored calls, revocations).

Every block's rows, its hash and the cursors move in one transaction; the signals are
submitted after that commit from the outbox, so a crash between the two loses nothing
(intake is idempotent on the signal id: a second submit is a `duplicate`)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.adapters.postgres import outbox
from core.adapters.postgres.cas import count_moved
from core.adapters.postgres.db import Database, session_lock
from core.adapters.postgres.tables import intents, leader_txs, leaders, signals, watched_blocks
from core.domain.rows import LeaderTxRow, WatchedLeader
from core.domain.states import IntentState, SignalState, check_intent, reason_code

LOCK = "hashtext('copytrade.leader_watch')"
KEEP_BLOCKS = 256  # block hashes kept for reorg checks


class LeaderStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def round_lock(self) -> AbstractContextManager[bool]:
        """A session advisory lock for one watcher round (two watchers: one reads)."""
        return session_lock(self.db, LOCK)

    def leaders(self) -> list[WatchedLeader]:
        with self.db.tx() as conn:
            rows = conn.execute(select(leaders.c.id, leaders.c.address, leaders.c.watched_to))
            return [WatchedLeader(int(r[0]), str(r[1]), r[2]) for r in rows]

    def start_new_leaders(self, head: int) -> None:
        """Leaders never read start after `head`: no back-fill unless asked (--from-block)."""
        with self.db.tx() as conn:
            conn.execute(
                update(leaders).where(leaders.c.watched_to.is_(None)).values(watched_to=head)
            )

    def stored(self, above: int = -1) -> dict[int, str]:
        with self.db.tx() as conn:
            rows = conn.execute(
                select(watched_blocks.c.number, watched_blocks.c.hash).where(
                    watched_blocks.c.number > above
                )
            )
            return {int(n): str(h) for n, h in rows.tuples()}

    def rewind(self, ancestor: int) -> int:
        """Forget the blocks above `ancestor` (they left the canonical chain): their leader
        transactions become `orphaned` until seen again, cursors go back. Returns how many
        leader transactions were orphaned."""
        with self.db.tx() as conn:
            gone = select(watched_blocks.c.hash).where(watched_blocks.c.number > ancestor)
            n = conn.execute(
                update(leader_txs)
                .where(leader_txs.c.block_hash.in_(gone), leader_txs.c.status != "revoked")
                .values(orphaned=True)
            ).rowcount
            conn.execute(delete(watched_blocks).where(watched_blocks.c.number > ancestor))
            conn.execute(
                update(leaders).where(leaders.c.watched_to > ancestor).values(watched_to=ancestor)
            )
            return int(n)

    def record_block(
        self,
        number: int,
        block_hash: str,
        parent_hash: str,
        cursors: dict[int, int | None],
        rows: list[LeaderTxRow],
    ) -> None:
        """One block read: its hash, its leaders' transactions, their cursors — at once.
        A transaction seen before (re-included after a reorg) keeps its row and status.
        `cursors`: leader id -> the cursor this round read; a cursor moved meanwhile (a
        `leader add --from-block` back-fill) is left where it was moved to."""
        with self.db.tx() as conn:
            conn.execute(
                pg_insert(watched_blocks)
                .values(number=number, hash=block_hash, parent_hash=parent_hash)
                .on_conflict_do_update(
                    index_elements=[watched_blocks.c.number],
                    set_={"hash": block_hash, "parent_hash": parent_hash},
                )
            )
            for r in rows:
                conn.execute(
                    pg_insert(leader_txs)
                    .values(
                        tx_hash=r.tx_hash,
                        action_index=r.action_index,
                        leader_id=r.leader_id,
                        block_number=number,
                        block_hash=block_hash,
                        status=r.status,
                        reason=r.reason,
                        payload=r.payload,
                    )
                    .on_conflict_do_update(
                        constraint="uq_leader_txs_action",
                        set_={"block_number": number, "block_hash": block_hash, "orphaned": False},
                    )
                )
            by_seen: dict[int | None, list[int]] = {}
            for leader_id, seen in cursors.items():
                by_seen.setdefault(seen, []).append(leader_id)
            for seen, ids in by_seen.items():
                conn.execute(
                    update(leaders)
                    .where(leaders.c.id.in_(ids), leaders.c.watched_to.is_not_distinct_from(seen))
                    .values(watched_to=number)
                )
            conn.execute(
                delete(watched_blocks).where(watched_blocks.c.number < number - KEEP_BLOCKS)
            )

    def outbox(self) -> list[tuple[int, dict[str, Any]]]:
        """Signals decoded but not yet submitted (not orphaned)."""
        with self.db.tx() as conn:
            rows = conn.execute(
                select(leader_txs.c.id, leader_txs.c.payload)
                .where(
                    leader_txs.c.status == "signal",
                    leader_txs.c.signal_pk.is_(None),
                    leader_txs.c.orphaned.is_(False),
                )
                .order_by(leader_txs.c.block_number, leader_txs.c.id)
            )
            return [(int(i), dict(p)) for i, p in rows.tuples()]

    def submitted(self, row_id: int, signal_pk: int | None, ignored_reason: str | None) -> None:
        with self.db.tx() as conn:
            values: dict[str, Any] = {"signal_pk": signal_pk}
            if ignored_reason is not None:
                values.update(status="ignored", reason=ignored_reason)
            conn.execute(update(leader_txs).where(leader_txs.c.id == row_id).values(**values))

    def orphans(self) -> list[tuple[int, str, int | None]]:
        """(row id, tx hash, signal pk) of leader transactions still off the chain."""
        with self.db.tx() as conn:
            rows = conn.execute(
                select(leader_txs.c.id, leader_txs.c.tx_hash, leader_txs.c.signal_pk).where(
                    leader_txs.c.orphaned.is_(True)
                )
            )
            return [(int(i), str(h), None if p is None else int(p)) for i, h, p in rows.tuples()]

    def revoke(self, row_id: int, signal_pk: int | None, reason: str) -> bool:
        """The leader transaction is gone: row `revoked`; its signal `revoked`. Intents not
        yet holding a nonce end `rejected`; returns True when some follower already has a
        nonce for it (traded or about to: the operator must decide — never auto-closed)."""
        with self.db.tx() as conn:
            conn.execute(
                update(leader_txs)
                .where(leader_txs.c.id == row_id)
                .values(status="revoked", orphaned=False, reason=reason)
            )
            if signal_pk is None:
                return False
            for state in (IntentState.PENDING, IntentState.CREATED):
                check_intent(state, IntentState.REJECTED)
                moved = [
                    int(i)
                    for (i,) in conn.execute(
                        update(intents)
                        .where(intents.c.signal_pk == signal_pk, intents.c.state == state.value)
                        .values(
                            state=IntentState.REJECTED.value, reason=reason, updated_at=func.now()
                        )
                        .returning(intents.c.id)
                    )
                ]
                count_moved(conn, state, IntentState.REJECTED, len(moved), reason_code(reason))
                outbox.intents_moved(conn, moved, IntentState.REJECTED)
            # Counted after the update: a build that commits later finds its intents
            # rejected (its compare-and-set fails); one that committed before is counted.
            acted = conn.execute(
                select(func.count()).where(
                    intents.c.signal_pk == signal_pk, intents.c.nonce.is_not(None)
                )
            ).scalar_one()
            conn.execute(
                update(signals)
                .where(
                    signals.c.id == signal_pk,
                    signals.c.state.in_(
                        [
                            SignalState.ACCEPTED.value,
                            SignalState.DISPATCHED.value,
                            SignalState.DONE.value,
                        ]
                    ),
                )
                .values(state=SignalState.REVOKED.value, reason=reason, updated_at=func.now())
            )
            return bool(acted)
