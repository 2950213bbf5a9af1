"""Pipeline.send (signed -> sent): the written-ahead bytes, inside the broadcast window;
what each node answer means for the intent and its attempt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from core.domain.chain import Receipt
from core.domain.errors import TransientError, UnsafeToSend
from core.domain.states import IntentState
from core.domain.types import Mode
from tests.service.fakes import WINDOW_S, Clock, HeartbeatStatus, PipelineRig, make_pipeline
from tests.service.fakes_chain import MESSAGES, tx_hash_of


def two_signed(rig: PipelineRig) -> dict[int, tuple[int, bytes]]:
    """Intent 1 (alice, nonce 7) and 2 (bob, nonce 3), signed: intent -> (attempt, raw)."""
    return {1: rig.signed(1, "alice", 7), 2: rig.signed(2, "bob", 3)}


@dataclass
class Case:
    kinds: Mapping[int, str]  # intent -> the node's answer to its raw
    sent: tuple[int, ...]  # intents that end `sent`
    receipt_for: tuple[int, ...] = ()  # intents whose own hash has a receipt
    foreign_receipt: bool = False  # a receipt at some other hash (someone else's tx)
    errors: Mapping[int, str] = field(default_factory=dict)  # intent -> its attempt's error


CASES = {
    "accepted": Case({1: "ok", 2: "ok"}, sent=(1, 2)),
    "known-is-sent": Case({1: "known", 2: "ok"}, sent=(1, 2)),
    "nonce-too-low-with-our-receipt": Case(
        {1: "nonce_too_low", 2: "ok"}, sent=(1, 2), receipt_for=(1,)
    ),
    "nonce-too-low-without-receipt": Case(
        {1: "nonce_too_low", 2: "ok"}, sent=(2,), errors={1: "nonce_too_low: nonce too low"}
    ),
    "nonce-too-low-someone-elses-receipt": Case(
        {1: "nonce_too_low", 2: "ok"},
        sent=(2,),
        foreign_receipt=True,
        errors={1: "nonce_too_low: nonce too low"},
    ),
    "underpriced": Case(
        {1: "ok", 2: "underpriced"},
        sent=(1,),
        errors={2: f"underpriced: {MESSAGES['underpriced']}"},
    ),
    "insufficient-funds": Case(
        {1: "insufficient_funds", 2: "ok"},
        sent=(2,),
        errors={1: f"insufficient_funds: {MESSAGES['insufficient_funds']}"},
    ),
    "error": Case(
        {1: "error", 2: "error"},
        sent=(),
        errors={1: "error: internal error", 2: "error: internal error"},
    ),  # fmt: skip
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_send(case: Case) -> None:
    rig = make_pipeline()
    signed = two_signed(rig)
    for i, kind in case.kinds.items():
        rig.chain.kinds[signed[i][1]] = kind
    for i in case.receipt_for:
        h = tx_hash_of(signed[i][1])
        rig.chain.receipts_by_hash[h] = Receipt(h, 99, "0xblock", 1)
    if case.foreign_receipt:
        rig.chain.receipts_by_hash["0xtheirs"] = Receipt("0xtheirs", 99, "0xblock", 1)

    if case.errors:
        with pytest.raises(TransientError):
            rig.pipeline.send(rig.pk)
    else:
        assert rig.pipeline.send(rig.pk) == len(case.sent)

    assert rig.chain.sent == [signed[1][1], signed[2][1]]  # the written-ahead bytes, once
    assert rig.chain.guard_calls == 1  # the window's guard said go right before the chunk
    for i, (attempt_id, _) in signed.items():
        a = rig.intents.attempts[attempt_id]
        assert rig.intents.state(i) is (IntentState.SENT if i in case.sent else IntentState.SIGNED)
        assert a.error == case.errors.get(i)
        if i in case.sent:  # stamped with the guard's database time, the block, the sender
            assert a.broadcast_at == rig.chain.guard_times[0]
            assert a.broadcast_block == rig.chain.block
            assert ":" in (a.sent_by or "")  # hostname:pid
        else:
            assert (a.broadcast_at, a.sent_by) == (None, None)


def test_a_signal_past_max_age_sends_nothing() -> None:
    rig = make_pipeline(age_s=121)
    two_signed(rig)
    assert rig.pipeline.send(rig.pk) == 0
    assert rig.chain.sent == []
    assert rig.controls.bounds == []  # no window was even opened
    assert (rig.intents.state(1), rig.intents.state(2)) == (IntentState.SIGNED, IntentState.SIGNED)


EFFECTIVE_DRY: dict[str, tuple[Mode, bool, HeartbeatStatus]] = {
    "stop-flag": (Mode.LIVE, True, "fresh"),
    "requested-dry": (Mode.DRY, False, "fresh"),
    "heartbeat-stale": (Mode.LIVE, False, "stale"),
    "mode-store-unreadable": (Mode.LIVE, False, "unreadable"),
}


@pytest.mark.parametrize(
    ("requested", "stopped", "heartbeat"), EFFECTIVE_DRY.values(), ids=EFFECTIVE_DRY.keys()
)
def test_unsafe_to_send_puts_nothing_on_the_wire(
    requested: Mode, stopped: bool, heartbeat: HeartbeatStatus
) -> None:
    rig = make_pipeline(requested, stopped, heartbeat)
    two_signed(rig)
    with pytest.raises(UnsafeToSend):
        rig.pipeline.send(rig.pk)
    assert rig.chain.sent == []
    assert rig.controls.open_windows == 0
    assert (rig.intents.state(1), rig.intents.state(2)) == (IntentState.SIGNED, IntentState.SIGNED)


def test_a_stop_after_the_window_opened_refuses_the_first_chunk() -> None:
    rig = make_pipeline()
    two_signed(rig)
    rig.chain.before_guard = rig.controls.stop  # lands once the window is open
    with pytest.raises(UnsafeToSend, match="emergency_stop"):
        rig.pipeline.send(rig.pk)
    assert rig.chain.sent == []
    assert rig.chain.guard_refusals == 1


def test_a_stop_between_chunks_leaves_the_rest_unsent() -> None:
    rig = make_pipeline()
    signed = two_signed(rig)
    rig.chain.chunk = 1
    rig.chain.before_send = rig.controls.stop  # set while the first chunk goes out
    with pytest.raises(TransientError):
        rig.pipeline.send(rig.pk)
    assert rig.chain.sent == [signed[1][1]]
    assert (rig.intents.state(1), rig.intents.state(2)) == (IntentState.SENT, IntentState.SIGNED)
    error = rig.intents.attempts[signed[2][0]].error
    assert error is not None
    assert error.startswith("unsent: effective mode is DRY: emergency_stop")


def test_a_signal_aging_past_max_inside_the_window_is_not_sent(clock: Clock) -> None:
    rig = make_pipeline(age_s=110)  # 10 s left
    two_signed(rig)
    rig.chain.before_guard = lambda: clock.advance(10.5)  # a slow identity round trip
    assert rig.pipeline.send(rig.pk) == 0  # left to the no-op cancel, not retried
    assert rig.chain.sent == []
    assert rig.chain.guard_refusals == 1
    assert (rig.intents.state(1), rig.intents.state(2)) == (IntentState.SIGNED, IntentState.SIGNED)


def test_send_opens_one_bounded_window_and_is_idempotent() -> None:
    rig = make_pipeline()
    two_signed(rig)
    assert rig.pipeline.send(rig.pk) == 2
    assert rig.pipeline.send(rig.pk) == 0  # nothing signed is left
    assert len(rig.chain.sent) == 2
    assert rig.controls.bounds == [WINDOW_S]
