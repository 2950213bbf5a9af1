"""In-memory fake of the later attempts (ResignStore): each claim a compare-and-set on the
newest attempt's number, as in core/adapters/postgres/attempts.py. The signals, intents and
nonces are in fakes_store.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from core.domain.fees import Fees
from core.domain.rows import Newest
from core.domain.states import IntentState, check_intent


@dataclass(frozen=True)
class Claim:
    intent_id: int
    attempt_no: int
    attempt_id: int
    kind: str
    tx_hash: str
    raw: bytes
    fees: Fees
    gas: int
    new_state: IntentState | None
    reason: str | None


class FakeAttempts:
    """ResignStore over Newest rows (the newest attempt per intent). `claim` inserts
    attempt n.attempt_no + 1 once per (intent, number) — a second claim of the same number
    loses (None) — and, with `new_state`, moves the intent by compare-and-set."""

    def __init__(self, rows: Iterable[Newest] = (), signer_next_nonce: int = 50) -> None:
        self.rows: dict[int, Newest] = {}
        self.taken: set[tuple[int, int]] = set()
        self.hashes_by_intent: dict[int, list[str]] = {}
        self.raws_by_hash: dict[str, bytes] = {}
        self.claims: list[Claim] = []
        self.broadcasts: list[tuple[int, int, str, datetime]] = []
        self.errors: dict[int, str] = {}
        self.state_changes: list[tuple[int, IntentState, IntentState]] = []
        self.blocks: dict[int, tuple[int | None, str | None]] = {}
        self.suspects: dict[int, tuple[str, int, str]] = {}
        self.next_nonce: dict[str, int] = {}
        self.signer_next_nonce = signer_next_nonce
        self.outside: list[tuple[int, int, int]] = []  # (intent, outside nonce, new nonce)
        self._ids = 5000
        for n in rows:
            self.add(n)

    def add(self, n: Newest) -> None:
        self.rows[n.intent_id] = n
        self.taken.update((n.intent_id, no) for no in range(1, n.attempt_no + 1))
        self.hashes_by_intent.setdefault(n.intent_id, []).append(n.tx_hash)
        self.raws_by_hash[n.tx_hash] = n.raw
        self._ids = max(self._ids, n.attempt_id)

    def state(self, intent_id: int) -> IntentState:
        return self.rows[intent_id].state

    def _move(self, intent_id: int, current: IntentState, new: IntentState) -> bool:
        check_intent(current, new)
        row = self.rows[intent_id]
        if row.state is not current:
            return False
        self.rows[intent_id] = replace(row, state=new)
        self.state_changes.append((intent_id, current, new))
        return True

    def _insert(self, n: Newest, kind: str, tx_hash: str, raw: bytes, fees: Fees, gas: int) -> int:
        self._ids += 1
        self.taken.add((n.intent_id, n.attempt_no + 1))
        self.hashes_by_intent.setdefault(n.intent_id, []).append(tx_hash)
        self.raws_by_hash[tx_hash] = raw
        self.rows[n.intent_id] = replace(
            self.rows[n.intent_id],
            attempt_id=self._ids,
            attempt_no=n.attempt_no + 1,
            kind=kind,
            tx_hash=tx_hash,
            raw=raw,
            fees=fees,
            gas_limit=gas,
            broadcast=False,
            age_s=0.0,
            broadcast_block=None,
        )
        return self._ids

    # -- AttemptStore --------------------------------------------------------------------------
    def newest(self, states: tuple[IntentState, ...], intent_id: int | None = None) -> list[Newest]:
        return [
            n
            for i, n in sorted(self.rows.items())
            if n.state in states and (intent_id is None or i == intent_id)
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
        if new_state is not None:
            check_intent(n.state, new_state)
        if (n.intent_id, n.attempt_no + 1) in self.taken:
            return None
        if new_state is not None and not self._move(n.intent_id, n.state, new_state):
            return None
        aid = self._insert(n, kind, tx_hash, raw, fees, gas)
        no = n.attempt_no + 1
        self.claims.append(
            Claim(n.intent_id, no, aid, kind, tx_hash, raw, fees, gas, new_state, reason)
        )
        return aid

    def claim_state(self, n: Newest, new_state: IntentState) -> bool:
        return self._move(n.intent_id, n.state, new_state)

    def mark_broadcast(self, attempt_id: int, block: int, who: str, at: datetime) -> None:
        self.broadcasts.append((attempt_id, block, who, at))
        self.errors.pop(attempt_id, None)
        for i, n in self.rows.items():
            if n.attempt_id == attempt_id:
                self.rows[i] = replace(
                    n, broadcast=True, broadcast_block=n.broadcast_block or block
                )

    def record_error(self, attempt_id: int, message: str) -> None:
        self.errors[attempt_id] = message[:500]

    def hashes_of(self, intent_ids: Sequence[int]) -> dict[int, list[str]]:
        return {i: list(self.hashes_by_intent[i]) for i in intent_ids if i in self.hashes_by_intent}

    def raws(self, hashes: list[str]) -> dict[str, bytes]:
        return {h: self.raws_by_hash[h] for h in hashes if h in self.raws_by_hash}

    def set_block(
        self, intent_id: int, state: IntentState, block: int | None, block_hash: str | None
    ) -> None:
        if self.rows[intent_id].state is state:
            self.blocks[intent_id] = (block, block_hash)

    # -- ResignStore ---------------------------------------------------------------------------
    def resign(
        self, n: Newest, sign: Callable[[int], tuple[str, bytes]], fees: Fees, outside_nonce: int
    ) -> tuple[int, int] | None:
        check_intent(n.state, IntentState.SIGNED)
        nonce = self.next_nonce.get(n.signer_address, self.signer_next_nonce)
        tx_hash, raw = sign(nonce)
        row = self.rows[n.intent_id]
        if row.nonce != outside_nonce or not self._move(n.intent_id, n.state, IntentState.SIGNED):
            return None
        aid = self._insert(n, "order", tx_hash, raw, fees, n.gas_limit)
        self.rows[n.intent_id] = replace(self.rows[n.intent_id], nonce=nonce)
        self.next_nonce[n.signer_address] = nonce + 1
        self.outside.append((n.intent_id, outside_nonce, nonce))
        return nonce, aid

    def sent_after_resign(
        self, intent_id: int, attempt_id: int, block: int, who: str, at: datetime
    ) -> None:
        self.mark_broadcast(attempt_id, block, who, at)
        self._move(intent_id, IntentState.SIGNED, IntentState.SENT)

    def suspect(self, intent_id: int) -> tuple[str, str] | None:
        s = self.suspects.get(intent_id)
        return None if s is None else (s[0], s[2])

    def suspect_seen(self, intent_id: int, tx_hash: str, block: int, block_hash: str) -> None:
        self.suspects[intent_id] = (tx_hash, block, block_hash)

    def forget_suspect(self, intent_id: int) -> None:
        self.suspects.pop(intent_id, None)
