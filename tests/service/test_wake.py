"""What the `size` and `send` steps decide about the chain and the leader's next signal
(it used to live in the tasks): stop the chain when nothing was sized; wake the leader's
next waiting signal when nothing of this one waits to reach send, after a send, and when
the signal gives up."""

from __future__ import annotations

import pytest

from core.domain.risk import LeaderOrder
from core.domain.rows import SignalRow, SizingInput
from core.domain.states import SignalState
from core.domain.types import USD, Action, Side
from tests.service.fakes import PipelineRig, make_pipeline
from tests.service.test_build import _sizing_input

NEXT = 7  # the leader's next signal, waiting behind the rig's


def _rig(age_s: float = 1.0, pending: list[SizingInput] | None = None) -> PipelineRig:
    rig = make_pipeline()
    order = LeaderOrder(Action.OPEN, "BTC", Side.LONG, 100 * USD, 2)
    rig.signals.signals[rig.pk] = SignalRow(
        rig.pk, "sig-1", 1, order, 100_000 * USD, SignalState.DISPATCHED, None, age_s
    )
    rig.signals.pending[rig.pk] = pending if pending is not None else [_sizing_input(1)]
    rig.signals.waiting[rig.pk] = NEXT
    return rig


@pytest.mark.parametrize(
    ("case", "goes_on", "woken"),
    [
        ("sized", True, []),
        ("gated", False, []),  # the send of the signal ahead wakes it
        ("all-stale", False, [(NEXT, "size")]),  # nothing of it will reach send
        ("sized-by-another-chain", False, [(NEXT, "size")]),
    ],
)
def test_size_step(case: str, goes_on: bool, woken: list[tuple[int, str]]) -> None:
    rig = _rig(
        age_s=999.0 if case == "all-stale" else 1.0,
        pending=[] if case == "sized-by-another-chain" else None,
    )
    if case == "gated":
        rig.signals.gated[rig.pk] = 1
    assert rig.pipeline.size_step(rig.pk) is goes_on
    assert rig.dispatcher.dispatched == woken


def test_send_step_wakes_the_next_signal_even_with_nothing_to_send() -> None:
    rig = _rig()
    assert rig.pipeline.send_step(rig.pk) == 0
    assert rig.dispatcher.dispatched == [(NEXT, "size")]


def test_give_up_fails_the_signal_and_wakes_the_next() -> None:
    rig = _rig()
    assert rig.pipeline.give_up(rig.pk, KeyError("x")) == 1
    assert rig.signals.given_up == {rig.pk: "internal: KeyError"}
    assert rig.dispatcher.dispatched == [(NEXT, "size")]


def test_no_next_signal_wakes_nothing() -> None:
    rig = _rig(age_s=999.0)
    del rig.signals.waiting[rig.pk]
    assert rig.pipeline.size_step(rig.pk) is False
    assert rig.dispatcher.dispatched == []
