"""In-memory fakes of the system of record: signals (SignalStore), intents with their
first attempts and the signers' nonces (IntentPorts). Every write is a compare-and-set
checked against the state table, as in the real stores
(core/adapters/postgres/{signals,intents,nonces}.py). The later attempts: fakes_attempts.py."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime

from core.domain.errors import SignerError, TransientError
from core.domain.fees import Fees
from core.domain.rows import SignalRow, Signed, SizingInput, SizingOutcome, ToSend, ToSign
from core.domain.states import IntentState, SignalState, check_intent, check_signal
from core.domain.types import CANCEL_ACTION, Wei


class FakeSignals:
    """SignalStore: signal rows and the pending intents' sizing inputs, per signal."""

    def __init__(self) -> None:
        self.signals: dict[int, SignalRow] = {}
        self.pending: dict[int, list[SizingInput]] = {}
        self.rejected: dict[int, str] = {}  # intent id -> reason (pending -> rejected)
        self.sized: dict[int, SizingOutcome] = {}
        self.gated: dict[int, int] = {}  # signal pk -> pending intents the gate holds back
        self.waiting: dict[int, int] = {}  # signal pk -> the leader's next signal behind it
        self.given_up: dict[int, str] = {}  # signal pk -> reason

    def expand(self, pk: int, max_age_s: int) -> tuple[SignalState, str]:
        row = self.signals[pk]
        if row.state is not SignalState.ACCEPTED:
            return row.state, row.signal_id
        new = SignalState.REJECTED if row.age_s > max_age_s else SignalState.DISPATCHED
        check_signal(row.state, new)
        stale = new is SignalState.REJECTED
        self.signals[pk] = replace(row, state=new, reason="stale" if stale else None)
        return new, row.signal_id

    def signal(self, pk: int) -> SignalRow:
        return self.signals[pk]

    def reject_pending(self, pk: int, reason: str) -> int:
        items = self.pending.pop(pk, [])
        self.rejected.update({i.intent_id: reason for i in items})
        return len(items)

    def size_pending(
        self,
        pk: int,
        sizer: Callable[[SizingInput], SizingOutcome],
        leader_id: int,
        asset: str,
        by_position: bool = False,
    ) -> tuple[int, int]:
        if self.gated.get(pk):
            return 0, self.gated[pk]
        outcomes = [(item.intent_id, sizer(item)) for item in self.pending.pop(pk, [])]
        self.sized.update(outcomes)
        return sum(1 for _, (decision, _price) in outcomes if decision.accepted), 0

    def equity_accounts(self, pk: int) -> list[tuple[str, str]]:
        return [
            (i.follower.account, i.follower.leader_address)
            for i in self.pending.get(pk, [])
            if i.follower.policy.sizing.kind == "equity-ratio"
        ]

    def finish_signals(self) -> int:
        return 0

    def next_waiting(self, pk: int) -> int | None:
        return self.waiting.get(pk)

    def give_up(self, pk: int, reason: str) -> int:
        self.given_up[pk] = reason
        return len(self.pending.pop(pk, []))


@dataclass
class IntentRow:
    t: ToSign
    signal_pk: int
    state: IntentState = IntentState.CREATED
    reason: str | None = None
    nonce: int | None = None
    tx_hash: str | None = None
    calldata: bytes | None = None
    mode: str | None = None


@dataclass
class AttemptRow:
    id: int
    intent_id: int
    attempt_no: int
    kind: str
    nonce: int
    tx_hash: str
    raw: bytes
    fees: Fees
    gas_limit: int
    error: str | None = None
    broadcast_at: datetime | None = None
    broadcast_block: int | None = None
    sent_by: str | None = None


class FakeIntents:
    """IntentStore + NonceAllocator: the intents table, their first attempts, and each
    signer's next nonce (core/adapters/postgres/intents.py, nonces.py).
    `on_sign_created` runs at the start of sign_created (another writer between the
    pipeline's checks and its locked sign: a new intent sized, the signal aging)."""

    def __init__(self) -> None:
        self.intents: dict[int, IntentRow] = {}
        self.attempts: dict[int, AttemptRow] = {}
        self.ages: dict[int, tuple[float, str]] = {}  # signal pk -> (age s, signal id)
        self.next_nonce: dict[str, int] = {}
        self.signer_chain: dict[str, int] = {}
        self.on_sign_created: Callable[[], None] | None = None

    # -- seeding and reading (tests) -----------------------------------------------------------
    def add_signal(self, pk: int, age_s: float) -> None:
        self.ages[pk] = (age_s, f"sig-{pk}")

    def add(self, t: ToSign, pk: int) -> IntentRow:
        self.intents[t.intent_id] = row = IntentRow(t, pk)
        return row

    def add_signed(self, t: ToSign, pk: int, nonce: int, raw: bytes, tx_hash: str) -> int:
        """An intent already signed (attempt 1 written ahead); returns the attempt id."""
        row = self.add(t, pk)
        row.state, row.nonce, row.tx_hash, row.mode = IntentState.SIGNED, nonce, tx_hash, "live"
        return self._attempt(t.intent_id, nonce, tx_hash, raw, Fees(Wei(0), Wei(0)), 0)

    def state(self, intent_id: int) -> IntentState:
        return self.intents[intent_id].state

    def unmined(self, signers: Sequence[str]) -> dict[str, int]:
        waiting = {IntentState.SIGNED, IntentState.SENT, IntentState.HELD}
        out: dict[str, int] = {}
        for r in self.intents.values():
            a = r.t.signer_address
            if a in signers and r.state in waiting:
                out[a] = out.get(a, 0) + 1
        return out

    def reason(self, intent_id: int) -> str | None:
        return self.intents[intent_id].reason

    def first_attempt(self, intent_id: int) -> AttemptRow | None:
        mine = [a for a in self.attempts.values() if a.intent_id == intent_id]
        return min(mine, key=lambda a: a.attempt_no) if mine else None

    def _attempt(
        self, intent_id: int, nonce: int, tx_hash: str, raw: bytes, fees: Fees, gas: int
    ) -> int:
        aid = 1000 + len(self.attempts)
        self.attempts[aid] = AttemptRow(aid, intent_id, 1, "order", nonce, tx_hash, raw, fees, gas)
        return aid

    def _cas(self, intent_id: int, current: IntentState, new: IntentState) -> IntentRow | None:
        check_intent(current, new)
        row = self.intents.get(intent_id)
        if row is None or row.state is not current:
            return None
        row.state = new
        return row

    # -- IntentStore ---------------------------------------------------------------------------
    def created_and_age(self, pk: int) -> tuple[list[ToSign], float, str]:
        age, signal_id = self.ages[pk]
        rows = sorted(
            (
                r.t
                for r in self.intents.values()
                if r.signal_pk == pk and r.state is IntentState.CREATED
            ),
            key=lambda t: t.intent_id,
        )
        return rows, age, signal_id

    def fail(
        self,
        failures: dict[int, str],
        from_state: IntentState = IntentState.CREATED,
        to: IntentState = IntentState.FAILED,
    ) -> None:
        check_intent(from_state, to)
        for intent_id, reason in failures.items():
            row = self.intents.get(intent_id)
            if row is not None and row.nonce is None and self._cas(intent_id, from_state, to):
                row.reason = reason

    def record_dry_run(self, results: dict[int, tuple[bytes, str | None]]) -> int:
        check_intent(IntentState.CREATED, IntentState.DRY_RUN)
        n = 0
        for intent_id, (data, reason) in results.items():
            row = self._cas(intent_id, IntentState.CREATED, IntentState.DRY_RUN)
            if row is not None:
                row.calldata, row.reason, row.mode = data, reason, "dry"
                n += 1
        return n

    def signed_and_age(self, pk: int) -> tuple[list[ToSend], float, str]:
        age, signal_id = self.ages[pk]
        out = []
        for r in sorted(self.intents.values(), key=lambda r: r.t.intent_id):
            if r.signal_pk == pk and r.state is IntentState.SIGNED:
                mine = [a for a in self.attempts.values() if a.intent_id == r.t.intent_id]
                a = max(mine, key=lambda a: a.attempt_no)
                cancel = r.t.action == CANCEL_ACTION
                out.append(ToSend(r.t.intent_id, a.id, a.tx_hash, a.raw, cancel))
        return out, age, signal_id

    def mark_sent(
        self,
        sent: list[ToSend],
        errors: dict[int, str],
        at: Mapping[int, datetime],
        sent_by: str = "",
        block: int = 0,
        signal_pk: int | None = None,
    ) -> tuple[int, float]:
        for attempt_id, message in errors.items():
            self.attempts[attempt_id].error = message[:500]
        if not sent:
            return 0, 0.0
        for s in sent:
            a = self.attempts[s.attempt_id]
            a.broadcast_at = a.broadcast_at or at[s.attempt_id]
            a.sent_by = a.sent_by or sent_by or None
            a.broadcast_block = a.broadcast_block or block or None
            a.error = None
        n = sum(1 for s in sent if self._cas(s.intent_id, IntentState.SIGNED, IntentState.SENT))
        return n, self.ages[signal_pk][0] if signal_pk is not None else 0.0

    # -- NonceAllocator ------------------------------------------------------------------------
    def missing_signers(self, addresses: Iterable[str]) -> list[str]:
        return sorted(set(addresses) - set(self.next_nonce))

    def init_signers(self, first_nonces: dict[str, int], chain_id: int) -> None:
        for address, nonce in first_nonces.items():
            if address not in self.next_nonce:  # an existing row is never reset
                self.next_nonce[address] = nonce
                self.signer_chain[address] = chain_id

    def sign_created(
        self,
        pk: int,
        sign: Callable[[ToSign, int], Signed],
        checked: Collection[int],
        skip: AbstractSet[int] = frozenset(),
        max_age_s: float | None = None,
    ) -> tuple[int, int]:
        if self.on_sign_created is not None:
            self.on_sign_created()
        todo = sorted(
            (
                r.t
                for r in self.intents.values()
                if r.signal_pk == pk and r.state is IntentState.CREATED and r.t.intent_id in checked
            ),
            key=lambda t: t.intent_id,
        )
        if not todo:
            return 0, 0
        if max_age_s is not None and self.ages[pk][0] > max_age_s:
            copies = [t for t in todo if t.action != CANCEL_ACTION]
            self.fail({t.intent_id: "stale" for t in copies}, to=IntentState.REJECTED)
            todo = [t for t in todo if t.action == CANCEL_ACTION]  # no max age bounds it
            if not todo:
                return 0, 0
        next_nonce = {t.signer_address: self.next_nonce[t.signer_address] for t in todo}
        done: list[tuple[ToSign, int, Signed]] = []
        held: set[str] = set()  # signers whose orders wait (their order is kept)
        refused: list[int] = []
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
            except SignerError:  # as the real store: failed alone, no nonce taken
                refused.append(t.intent_id)
                continue
            next_nonce[t.signer_address] = nonce + 1
            done.append((t, nonce, s))
        # One transaction: written only once every signature is in hand (a raise above
        # rolls it all back — no nonce taken).
        self.fail({i: "signer_error" for i in refused})
        for t, nonce, s in done:
            row = self._cas(t.intent_id, IntentState.CREATED, IntentState.SIGNED)
            assert row is not None
            row.nonce, row.tx_hash, row.calldata, row.mode = nonce, s.tx_hash, s.calldata, "live"
            fees = Fees(Wei(s.max_fee_per_gas), Wei(s.max_priority_fee_per_gas))
            self._attempt(t.intent_id, nonce, s.tx_hash, s.raw, fees, s.gas_limit)
        if done:
            self.next_nonce.update(next_nonce)
        return len(done), len(todo) - len(done) - len(refused)
