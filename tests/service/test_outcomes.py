"""A two-phase venue's outcomes (core/services/outcomes.py) against in-memory ports: the
order key from the request's receipt, fills, the venue's cancels, freezes, a fill that a
reorg removed, N-block depth before anything terminal; copytrade's cancel of a request no
keeper handled, asked once the venue's delay has passed in block time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from core.domain.chain import Log
from core.domain.rows import AwaitingOutcome
from core.domain.states import IntentState, check_intent
from core.domain.venue import Call, LogFilter, OutcomeKind, VenueOutcome
from core.services.outcomes import Outcomes

I = IntentState  # noqa: E741
KEY = "0x" + "ab" * 32
ALICE = "0x" + "a1" * 20


@dataclass
class Store:
    rows: dict[int, AwaitingOutcome] = field(default_factory=dict)
    values: dict[int, dict[str, Any]] = field(default_factory=dict)
    moves: list[tuple[int, IntentState, IntentState]] = field(default_factory=list)
    asked: list[tuple[int, str]] = field(default_factory=list)

    def ask_cancel(self, intent_id: int, order_key: str) -> int | None:
        r = self.rows[intent_id]
        if r.cancel_asked or r.state is not I.MINED or r.order_key != order_key:
            return None
        self.rows[intent_id] = replace(r, cancel_asked=True)
        self.asked.append((intent_id, order_key))
        return r.signal_pk

    def awaiting_outcome(self) -> list[AwaitingOutcome]:
        waiting = (I.MINED, I.FROZEN, I.EXECUTED)
        return [r for r in self.rows.values() if r.state in waiting]

    def set_order_key(self, intent_id: int, key: str) -> None:
        self.rows[intent_id] = replace(self.rows[intent_id], order_key=key)

    def transition(self, intent_id: int, current: IntentState, new: IntentState, **v: Any) -> bool:
        check_intent(current, new)
        r = self.rows[intent_id]
        if r.state is not current:
            return False
        blk = v.get("executed_block", r.executed_block)
        bh = v.get("executed_block_hash", r.executed_block_hash)
        self.rows[intent_id] = replace(r, state=new, executed_block=blk, executed_block_hash=bh)
        self.values.setdefault(intent_id, {}).update(v)
        self.moves.append((intent_id, current, new))
        return True


@dataclass
class Chain:
    receipt_logs_by_hash: dict[str, tuple[int, list[Log]]] = field(default_factory=dict)
    on_chain: list[Log] = field(default_factory=list)
    ranges: list[tuple[int, int]] = field(default_factory=list)
    times: dict[int, int] = field(default_factory=dict)  # block -> timestamp
    calls: list[Call] = field(default_factory=list)
    cancel_after: int = 300

    def block_times(self, numbers: Sequence[int]) -> dict[int, int]:
        return {n: self.times[n] for n in numbers if n in self.times}

    def call(self, to: str, data: bytes, sender: str | None = None, value: int = 0) -> bytes:
        self.calls.append(Call(to, data))
        return self.cancel_after.to_bytes(32, "big")

    def receipt_logs(self, hashes: Sequence[str]) -> dict[str, tuple[int, list[Log]]]:
        return {h: self.receipt_logs_by_hash[h] for h in hashes if h in self.receipt_logs_by_hash}

    def logs(self, filters: Sequence[LogFilter], from_block: int, to_block: int) -> list[Log]:
        self.ranges.append((from_block, to_block))
        return [lg for lg in self.on_chain if from_block <= lg.block_number <= to_block]


class Venue:
    """Logs carry their outcome as text in `data`: b"created:<key>", b"executed:<key>:<px>",
    b"cancelled:<key>:<reason>", b"frozen:<key>:<reason>"."""

    two_phase = True
    cancels = True  # False: a venue without a trader's cancel

    def cancel_after_call(self) -> Call | None:
        return Call("0xda7a", b"REQUEST_EXPIRATION_TIME") if self.cancels else None

    def decode_cancel_after(self, result: bytes) -> int:
        return int.from_bytes(result, "big")

    def request_key(self, logs: Sequence[Log]) -> str | None:
        for lg in logs:
            kind, key, *_ = lg.data.decode().split(":")
            if kind == "created":
                return key
        return None

    def outcome_filters(self, accounts: Sequence[str], keys: Sequence[str]) -> list[LogFilter]:
        return [LogFilter("0xee", [None, list(keys)])]

    def decode_outcome(self, log: Log) -> VenueOutcome | None:
        kind, key, *rest = log.data.decode().split(":")
        if kind == "created":
            return None
        o = VenueOutcome(key, OutcomeKind(kind), log.block_number, log.block_hash, log.tx_hash)
        if kind == "executed":
            return replace(o, price_usd_1e6=int(rest[0]), size_delta_usd_1e6=1000)
        return replace(o, reason=rest[0])


def outcome_log(text: str, block: int, block_hash: str = "") -> Log:
    return Log("0xee", [], text.encode(), block, block_hash or f"0xb{block}", f"0xt{block}")


def rig(
    state: IntentState = I.MINED, key: str | None = KEY, confirmations: int = 2
) -> tuple[Outcomes, Store, Chain]:
    store, chain = Store(), Chain()
    store.rows[1] = AwaitingOutcome(1, state, ALICE, "0xreq", 10, key)
    return Outcomes(store, chain, Venue(), confirmations), store, chain  # type: ignore[arg-type]


def test_the_order_key_comes_from_the_request_receipt_and_is_kept() -> None:
    o, store, chain = rig(key=None)
    chain.receipt_logs_by_hash["0xreq"] = (1, [outcome_log(f"created:{KEY}", 10)])
    o.poll(11)
    assert store.rows[1].order_key == KEY
    assert chain.ranges == [(10, 11)]  # from the request's block to the head


def test_a_mined_request_without_an_order_is_reported_not_guessed() -> None:
    o, store, chain = rig(key=None)
    chain.receipt_logs_by_hash["0xreq"] = (1, [])
    result = o.poll(11)
    assert result.keyless == [1]
    assert store.rows[1].state is I.MINED
    assert not store.moves


def test_a_fill_is_recorded_then_confirmed_n_blocks_deep() -> None:
    o, store, chain = rig()
    chain.on_chain.append(outcome_log(f"executed:{KEY}:2000000000", 12))
    assert o.poll(12).executed == 1
    assert store.rows[1].state is I.EXECUTED
    assert store.values[1]["fill_price_usd_1e6"] == 2_000_000_000
    assert store.values[1]["executed_block"] == 12
    assert o.poll(13).confirmed == 1
    assert store.rows[1].state is I.CONFIRMED


def test_a_fill_already_deep_is_executed_and_confirmed_in_one_pass() -> None:
    o, store, chain = rig()
    chain.on_chain.append(outcome_log(f"executed:{KEY}:5", 12))
    o.poll(20)
    assert [m[2] for m in store.moves] == [I.EXECUTED, I.CONFIRMED]


def test_a_fill_that_left_the_chain_puts_the_intent_back_to_waiting() -> None:
    o, store, chain = rig()
    chain.on_chain.append(outcome_log(f"executed:{KEY}:5", 12))
    o.poll(12)
    chain.on_chain.clear()  # the reorg took the execution block
    assert o.poll(12).unexecuted == 1
    assert store.rows[1].state is I.MINED
    assert store.values[1]["fill_price_usd_1e6"] is None
    chain.on_chain.append(outcome_log(f"executed:{KEY}:7", 13, "0xother"))
    o.poll(14)
    assert store.rows[1].state is I.CONFIRMED
    assert store.values[1]["fill_price_usd_1e6"] == 7


def test_the_same_fill_in_another_block_moves_its_recorded_block() -> None:
    o, store, chain = rig(confirmations=3)
    chain.on_chain.append(outcome_log(f"executed:{KEY}:5", 12, "0xfirst"))
    o.poll(12)
    chain.on_chain[:] = [outcome_log(f"executed:{KEY}:5", 13, "0xsecond")]
    o.poll(13)
    assert store.rows[1].state is I.EXECUTED
    assert (store.rows[1].executed_block, store.rows[1].executed_block_hash) == (13, "0xsecond")


@pytest.mark.parametrize("state", [I.MINED, I.FROZEN])
def test_the_venues_cancel_is_terminal_only_n_blocks_deep(state: IntentState) -> None:
    o, store, chain = rig(state)
    chain.on_chain.append(outcome_log(f"cancelled:{KEY}:OrderNotFulfillableAtAcceptablePrice", 12))
    assert o.poll(12).venue_cancelled == 0
    assert store.rows[1].state is state
    assert o.poll(13).venue_cancelled == 1
    assert store.rows[1].state is I.VENUE_CANCELLED
    assert store.values[1]["reason"] == "venue_cancelled: OrderNotFulfillableAtAcceptablePrice"


def test_a_frozen_order_then_executed_is_executed() -> None:
    o, store, chain = rig()
    chain.on_chain.append(outcome_log(f"frozen:{KEY}:limit", 11))
    o.poll(11)
    assert store.rows[1].state is I.FROZEN
    chain.on_chain.append(outcome_log(f"executed:{KEY}:9", 12))
    o.poll(12)
    assert store.rows[1].state is I.EXECUTED


def test_another_accounts_outcome_is_not_ours() -> None:
    o, store, chain = rig()
    chain.on_chain.append(outcome_log(f"executed:0x{'cd' * 32}:5", 12))
    o.poll(20)
    assert store.rows[1].state is I.MINED
    assert not store.moves


def test_two_watchers_apply_a_fill_once() -> None:
    o, store, chain = rig()
    chain.on_chain.append(outcome_log(f"executed:{KEY}:5", 12))
    stale = store.awaiting_outcome()
    assert o.poll(12).executed == 1
    # A second watcher that read the rows before the first moved them loses the CAS.
    for r in stale:
        o._apply(r, VenueOutcome(KEY, OutcomeKind.EXECUTED, 12, "0xb12", "0xt12"), 12, o_result())
    assert [m for m in store.moves if m[2] is I.EXECUTED] == [(1, I.MINED, I.EXECUTED)]


def o_result() -> Any:
    from core.services.outcomes import OutcomeResult

    return OutcomeResult()


def test_a_fill_or_the_venues_cancel_releases_the_signal_for_the_gate() -> None:
    o, store, chain = rig()
    store.rows[1] = replace(store.rows[1], signal_pk=7)
    store.rows[2] = AwaitingOutcome(2, I.MINED, ALICE, "0xreq2", 10, "0x" + "cd" * 32, signal_pk=8)
    chain.on_chain.append(outcome_log(f"executed:{KEY}:5", 12))
    assert o.poll(12).released == {7}
    chain.on_chain.append(outcome_log(f"cancelled:0x{'cd' * 32}:x", 12))
    assert o.poll(13).released == {8}  # cancelled, N deep; the fill is not released twice


# -- copytrade's cancel of a request no keeper handled (decision 0021) ----------------------


def test_a_request_no_keeper_handled_gets_one_cancel_once_the_delay_passed_in_block_time() -> None:
    o, store, chain = rig()
    store.rows[1] = replace(store.rows[1], signal_pk=7)
    chain.times = {10: 1_000, 20: 1_299}  # the request's block, and a head 299 s later
    assert o.poll(20).cancels == set()
    assert store.asked == []
    chain.times[21] = 1_300  # 300 s of block time: the venue lets the trader cancel
    assert o.poll(21).cancels == {7}
    assert store.asked == [(1, KEY)]
    chain.times[22] = 1_400
    assert o.poll(22).cancels == set()  # asked once
    assert store.asked == [(1, KEY)]


def test_the_venues_delay_is_read_each_pass_and_zero_cancels_nothing() -> None:
    o, store, chain = rig()
    chain.times = {10: 1_000, 20: 1_200}
    chain.cancel_after = 600  # governance raised it since the last pass
    o.poll(20)
    assert store.asked == []
    chain.cancel_after = 0  # an unset key: cancelling at once would race every keeper
    o.poll(20)
    assert store.asked == []
    chain.cancel_after = 100
    o.poll(20)
    assert store.asked == [(1, KEY)]
    assert len(chain.calls) == 3


def test_a_failing_cancel_check_does_not_fail_the_pass() -> None:
    o, store, chain = rig()
    store.rows[1] = replace(store.rows[1], signal_pk=7)
    store.rows[2] = AwaitingOutcome(2, I.MINED, ALICE, "0xreq2", 10, "0x" + "cd" * 32, signal_pk=8)
    chain.times = {10: 1_000, 12: 5_000}
    chain.on_chain.append(outcome_log(f"executed:{KEY}:5", 11))

    def broken(intent_id: int, order_key: str) -> int | None:
        raise RuntimeError("the database went away")

    store.ask_cancel = broken  # type: ignore[method-assign]
    result = o.poll(12)  # the fill is applied and released all the same
    assert result.released == {7}
    assert store.rows[1].state is I.CONFIRMED


def test_no_cancel_is_asked_for_a_request_with_an_outcome_even_one_not_yet_deep() -> None:
    o, store, chain = rig()
    chain.times = {10: 1_000, 12: 2_000}
    chain.on_chain.append(outcome_log(f"cancelled:{KEY}:by the keeper", 12))
    o.poll(12)  # the venue's cancel, 1 block deep of 2: not terminal yet, but handled
    assert store.asked == []
    assert store.rows[1].state is I.MINED


@pytest.mark.parametrize("state", [I.FROZEN, I.EXECUTED])
def test_no_cancel_is_asked_for_a_frozen_or_executed_request(state: IntentState) -> None:
    o, store, chain = rig(state)
    chain.times = {10: 1_000, 30: 9_000}
    if state is I.EXECUTED:
        chain.on_chain.append(outcome_log(f"executed:{KEY}:5", 29))
        store.rows[1] = replace(store.rows[1], executed_block=29, executed_block_hash="0xb29")
    o.poll(30)
    assert store.asked == []


def test_a_venue_without_a_trader_cancel_asks_none_and_reads_no_block() -> None:
    o, store, chain = rig()
    o.venue.cancels = False  # type: ignore[attr-defined]
    chain.times = {10: 1_000, 30: 9_000}
    o.poll(30)
    assert store.asked == []
    assert chain.calls == []
