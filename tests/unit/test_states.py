"""The state tables: every pair not in the table raises; every pair in it passes."""

from __future__ import annotations

import itertools

import pytest

from core.domain.errors import IllegalTransition
from core.domain.states import (
    INTENT_NOT_COUNTED,
    INTENT_TERMINAL,
    INTENT_TRANSITIONS,
    SIGNAL_TRANSITIONS,
    IntentState,
    SignalState,
    check_intent,
    check_signal,
    sources_of,
)

INTENT_PAIRS = list(itertools.product(IntentState, IntentState))
SIGNAL_PAIRS = list(itertools.product(SignalState, SignalState))


@pytest.mark.parametrize(("a", "b"), INTENT_PAIRS, ids=lambda s: s.value)
def test_intent_transition_allowed_exactly_when_in_table(a: IntentState, b: IntentState) -> None:
    if b in INTENT_TRANSITIONS[a]:
        check_intent(a, b)
    else:
        with pytest.raises(IllegalTransition):
            check_intent(a, b)


@pytest.mark.parametrize(("a", "b"), SIGNAL_PAIRS, ids=lambda s: s.value)
def test_signal_transition_allowed_exactly_when_in_table(a: SignalState, b: SignalState) -> None:
    if b in SIGNAL_TRANSITIONS[a]:
        check_signal(a, b)
    else:
        with pytest.raises(IllegalTransition):
            check_signal(a, b)


def test_terminal_intent_states_are_the_designed_ones() -> None:
    assert {s.value for s in INTENT_TERMINAL} == {
        "cancelled",
        "confirmed",
        "reverted",
        "rejected",
        "dry_run",
        "failed",
        "venue_cancelled",
    }


def test_a_two_phase_outcome_follows_only_a_mined_request() -> None:
    for st in (IntentState.EXECUTED, IntentState.FROZEN, IntentState.VENUE_CANCELLED):
        assert IntentState.MINED in sources_of(st)
        assert not {IntentState.SENT, IntentState.SIGNED, IntentState.HELD} & set(sources_of(st))
    # A fill counts as exposure; a request the venue cancelled does not.
    assert IntentState.EXECUTED not in INTENT_NOT_COUNTED
    assert IntentState.VENUE_CANCELLED in INTENT_NOT_COUNTED


def test_failed_is_reachable_only_before_a_nonce_is_assigned() -> None:
    assert set(sources_of(IntentState.FAILED)) == {IntentState.PENDING, IntentState.CREATED}


def test_every_state_has_a_row_in_the_table() -> None:
    assert set(INTENT_TRANSITIONS) == set(IntentState)
    assert set(SIGNAL_TRANSITIONS) == set(SignalState)


def test_docs_states_md_is_the_rendered_table() -> None:
    from pathlib import Path

    from core.domain.states import render_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "states.md"
    assert doc.read_text() == render_markdown()
