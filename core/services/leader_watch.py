"""The leader watcher: follows the chain block by block (one round per beat), decodes the
registered leaders' venue calls into signals, and submits them through intake.

- `signal_id` = `chain:<chain id>:<tx hash>:<index of the action within its tx>`: the same
  transaction re-included elsewhere after a reorg is the same signal (never traded twice).
- Reorgs: the watcher keeps the hashes of the blocks it read; when the tip it knows is no
  longer canonical it walks back to the common ancestor, re-reads from there, and revokes
  the signals of leader transactions that did not come back. A revoked signal whose
  followers already hold a nonce raises an alert: nothing is closed automatically.
- A call that is not an order (another contract, an unknown selector, a reverted order)
  is recorded `ignored` with the reason; never a crash, never a stall.
- On a venue whose keepers execute orders (GMX v2) the leader's request is no trade: its
  executions are, found by their logs (`Venue.leader_filters`) and read from their
  transactions' receipts (`decode_leader_fills`); `signal_id` then numbers the executions
  within the keeper's transaction. A partial decrease carries its fraction of the
  position (core/domain/leader_fills.py), a liquidation or ADL its cause.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from core.domain.chain import Block
from core.domain.leader_fills import FillSignal, LeaderFill, signal_of
from core.domain.mode import LEADER_REORG_ALARM
from core.domain.rows import LeaderTxRow, WatchedLeader
from core.domain.types import Action
from core.domain.venue import LogFilter
from core.faults import pause
from core.ports import Controls, LeaderChain, LeaderStore, Venue
from core.services.intake import Intake

log = logging.getLogger(__name__)

BATCH = 20  # blocks per RPC batch


@dataclass
class RoundResult:
    blocks: int = 0
    signals: int = 0
    ignored: int = 0
    revoked: int = 0
    reorgs: int = 0
    skipped: bool = False
    alerts: list[str] = field(default_factory=list)


class LeaderWatcher:
    def __init__(
        self,
        store: LeaderStore,
        chain: LeaderChain,
        intake: Intake,
        controls: Controls,
        chain_id: int,
        venue_address: str,
        venue: Venue,
        max_blocks: int = 200,
    ) -> None:
        self.store = store
        self.chain = chain
        self.intake = intake
        self.controls = controls
        self.chain_id = chain_id
        self.venue_address = venue_address.lower()
        self.venue = venue
        self.max_blocks = max_blocks

    def round(self) -> RoundResult:
        r = RoundResult()
        with self.store.round_lock() as got:
            if not got:
                r.skipped = True
                return r
            head = self.chain.block_number()
            self.store.start_new_leaders(head)
            r.reorgs += self._rewind_if_reorged(head)
            watched = self.store.leaders()  # cursors as the rewind left them
            if not watched:
                return r
            caught_up = self._read_forward(head, watched, r)
            self._drain_outbox(r)
            if caught_up:
                self._revoke_orphans(r)
        return r

    # -- reorgs ------------------------------------------------------------------------
    def _rewind_if_reorged(self, head: int) -> int:
        stored = self.store.stored()
        if not stored:
            return 0
        tip = max(stored)
        if tip <= head and self.chain.block_hashes([tip]).get(tip) == stored[tip]:
            return 0
        numbers = sorted(stored, reverse=True)
        canonical = self.chain.block_hashes([n for n in numbers if n <= head])
        ancestor = next((n for n in numbers if canonical.get(n) == stored[n]), min(numbers) - 1)
        orphaned = self.store.rewind(ancestor)
        log.warning(
            "reorg: blocks above %d left the canonical chain (%d leader tx(s) to re-check)",
            ancestor,
            orphaned,
        )
        return 1

    def _revoke_orphans(self, r: RoundResult) -> None:
        for row_id, tx_hash, signal_pk in self.store.orphans():
            reason = f"revoked: leader tx {tx_hash} reorged out"
            acted = self.store.revoke(row_id, signal_pk, reason)
            r.revoked += 1
            if acted:
                alert = (
                    f"signal {signal_pk}: leader tx {tx_hash} was reorged out after followers "
                    "traded; nothing is closed automatically (docs/runbook.md)"
                )
                log.critical(alert)
                self.controls.note(LEADER_REORG_ALARM, alert)
                r.alerts.append(alert)

    # -- reading -----------------------------------------------------------------------
    def _read_forward(self, head: int, watched: list[WatchedLeader], r: RoundResult) -> bool:
        """Read blocks after the slowest cursor up to `head` (at most max_blocks);
        True when every leader is at `head`."""
        lo = min(int(w.watched_to or head) for w in watched) + 1
        hi = min(head, lo + self.max_blocks - 1)
        cursors = {w.id: w.watched_to for w in watched}  # as this round read them
        if lo <= hi:
            pause("leaders.before_read")
        stored = self.store.stored(above=lo - 2)
        filters = self.venue.leader_filters([w.address for w in watched])
        for start in range(lo, hi + 1, BATCH):
            numbers = list(range(start, min(hi, start + BATCH - 1) + 1))
            blocks = self.chain.blocks(numbers)
            fills = self._fill_txs(filters, numbers) if filters else {}
            for block in blocks:
                if block is None:
                    return False
                parent = stored.get(block.number - 1)
                if parent is not None and parent != block.parent_hash:
                    return False  # a reorg under us: the next round rewinds
                txs = fills.get(block.number, {})
                if any(h != block.hash.lower() for h in txs.values()):
                    return False  # the logs were read from another chain than the block
                if filters:
                    self._record_fills(block, list(txs), watched, cursors, r)
                else:
                    self._record(block, watched, cursors, r)
                stored[block.number] = block.hash
                r.blocks += 1
        return hi == head

    def _fill_txs(self, filters: list[LogFilter], numbers: list[int]) -> dict[int, dict[str, str]]:
        """block number -> {hash of a transaction with a leader's execution: its block's
        hash}, in chain order (a venue whose leaders' trades are executions: GMX)."""
        found: dict[int, dict[str, str]] = {}
        logs = self.chain.logs(filters, numbers[0], numbers[-1])
        for lg in sorted(logs, key=lambda x: (x.block_number, x.log_index)):
            found.setdefault(lg.block_number, {})[lg.tx_hash] = lg.block_hash.lower()
        return found

    def _record(
        self,
        block: Block,
        watched: list[WatchedLeader],
        cursors: dict[int, int | None],
        r: RoundResult,
    ) -> None:
        active = {
            w.address.lower(): w
            for w in watched
            if (seen := cursors[w.id]) is None or seen < block.number
        }
        rows: list[LeaderTxRow] = []
        orders = []
        for tx in block.txs:
            w = active.get(tx.sender.lower())
            if w is None:
                continue
            if (tx.to or "").lower() != self.venue_address:
                rows.append(LeaderTxRow(tx.hash, 0, w.id, "ignored", f"not the venue: {tx.to}"))
            elif tx.input[:4] != self.venue.order_selector:
                selector = "0x" + tx.input[:4].hex()
                rows.append(
                    LeaderTxRow(tx.hash, 0, w.id, "ignored", f"unknown selector {selector}")
                )
            else:
                orders.append((tx.hash, w))
        receipts = self.chain.receipt_logs([h for h, _ in orders]) if orders else {}
        for tx_hash, w in orders:
            status, logs = receipts.get(tx_hash, (0, []))
            events = [
                ev
                for lg in logs
                if lg.address.lower() == self.venue_address
                and (ev := self.venue.decode_order_event(lg.topics, lg.data)) is not None
                and ev.trader.lower() == w.address.lower()
            ]
            if status != 1 or not events:
                why = "reverted" if status != 1 else "no Order event"
                rows.append(LeaderTxRow(tx_hash, 0, w.id, "ignored", why))
                continue
            for i, ev in enumerate(events):
                payload = self._payload(tx_hash, i, w.address, ev, block.timestamp)
                rows.append(LeaderTxRow(tx_hash, i, w.id, "signal", payload=payload))
        self._commit(block, active, cursors, rows, r)

    def _commit(
        self,
        block: Block,
        active: dict[str, WatchedLeader],
        cursors: dict[int, int | None],
        rows: list[LeaderTxRow],
        r: RoundResult,
    ) -> None:
        """The block's rows, its hash and the active leaders' cursors, in one transaction."""
        r.signals += sum(1 for x in rows if x.status == "signal")
        r.ignored += sum(1 for x in rows if x.status == "ignored")
        moved = {w.id: cursors[w.id] for w in active.values()}
        self.store.record_block(block.number, block.hash, block.parent_hash, moved, rows)
        cursors.update({leader_id: block.number for leader_id in moved})
        if any(x.status == "signal" for x in rows):
            pause("leaders.after_record")

    def _record_fills(
        self,
        block: Block,
        txs: list[str],
        watched: list[WatchedLeader],
        cursors: dict[int, int | None],
        r: RoundResult,
    ) -> None:
        """A block on a venue whose leaders' trades are executions (GMX): every execution in
        a transaction of a leader's fill, numbered within its transaction over every account's
        (the same numbers when the transaction is re-included elsewhere after a reorg)."""
        active = {
            w.address.lower(): w
            for w in watched
            if (seen := cursors[w.id]) is None or seen < block.number
        }
        receipts = self.chain.receipt_logs(txs) if txs and active else {}
        rows: list[LeaderTxRow] = []
        for tx_hash in txs:
            status, logs = receipts.get(tx_hash, (0, []))
            if status != 1:
                continue
            for i, (trader, fill) in enumerate(self.venue.decode_leader_fills(logs)):
                w = active.get(trader.lower())
                if w is None:
                    continue
                got = fill if isinstance(fill, str) else signal_of(fill)
                if isinstance(got, str):
                    rows.append(LeaderTxRow(tx_hash, i, w.id, "ignored", got))
                    continue
                assert isinstance(fill, LeaderFill)
                payload = self._fill_payload(tx_hash, i, w.address, fill, got, block.timestamp)
                rows.append(LeaderTxRow(tx_hash, i, w.id, "signal", payload=payload))
        self._commit(block, active, cursors, rows, r)

    def _fill_payload(
        self, tx_hash: str, index: int, leader: str, fill: LeaderFill, s: FillSignal, ts: int
    ) -> dict[str, Any]:
        payload = {
            "schema": 1,
            "signal_id": f"chain:{self.chain_id}:{tx_hash}:{index}",
            "leader": leader,
            "action": s.action.value,
            "asset": fill.asset,
            "side": "long" if fill.is_long else "short",
            "collateral_usd_1e6": s.collateral_usd_1e6,
            "leverage_x": s.leverage_x,
            "issued_at": ts,
        }
        if fill.price_usd_1e6 > 0:
            payload["price_usd_1e6"] = fill.price_usd_1e6
        if s.fraction_1e18 is not None:
            payload["fraction_1e18"] = s.fraction_1e18
        if s.cause is not None:
            payload["cause"] = s.cause
        return payload

    def _payload(self, tx_hash: str, index: int, leader: str, ev: Any, ts: int) -> dict[str, Any]:
        return {
            "schema": 1,
            "signal_id": f"chain:{self.chain_id}:{tx_hash}:{index}",
            "leader": leader,
            "action": ev.action.value,
            "asset": ev.asset,
            "side": "long" if ev.is_long else "short",
            "collateral_usd_1e6": ev.collateral_usd_1e6,
            # A close carries whatever leverage the leader passed; the schema wants >= 1.
            "leverage_x": max(1, ev.leverage_x) if ev.action is Action.CLOSE else ev.leverage_x,
            "price_usd_1e6": ev.price_usd_1e6,
            "issued_at": ts,
        }

    def _drain_outbox(self, r: RoundResult) -> None:
        for row_id, payload in self.store.outbox():
            answer = self.intake.submit(payload, source="chain")
            if answer.status in ("accepted", "duplicate"):
                self.store.submitted(row_id, answer.signal_pk, None)
            else:
                why = f"{answer.status}: {answer.reason} {answer.detail or ''}".strip()
                log.warning("leader tx %s not a signal: %s", payload["signal_id"], why)
                self.store.submitted(row_id, None, why)
