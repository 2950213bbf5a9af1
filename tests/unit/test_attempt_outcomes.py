"""Each attempt of an intent gets one outcome, decided from its facts alone: whether a node
accepted it (broadcast_at), the node's refusal (error), whether a later attempt exists and
whether its hash is the one mined (pure)."""

from __future__ import annotations

import pytest

from core.domain.attempt_outcomes import AttemptFacts, attempt_outcome, attempt_outcomes
from core.domain.states import IntentState

UNDERPRICED = "underpriced: replacement transaction underpriced"


@pytest.mark.parametrize(
    ("broadcast", "error", "superseded", "mined", "outcome"),
    [
        pytest.param(True, None, False, True, "mined", id="mined-newest"),
        pytest.param(True, None, True, True, "mined", id="mined-though-a-later-one-exists"),
        pytest.param(True, None, False, False, "pending", id="broadcast-newest"),
        pytest.param(True, None, True, False, "replaced", id="broadcast-superseded"),
        pytest.param(True, UNDERPRICED, False, False, "pending", id="accepted-once-refused-later"),
        pytest.param(True, UNDERPRICED, True, False, "replaced", id="accepted-once-superseded"),
        pytest.param(False, None, True, False, "never sent", id="written-ahead-superseded"),
        pytest.param(False, None, False, False, "waiting to send", id="written-ahead-newest"),
        pytest.param(False, UNDERPRICED, False, False, f"refused: {UNDERPRICED}", id="refused"),
        pytest.param(
            False, UNDERPRICED, True, False, f"refused: {UNDERPRICED}", id="refused-superseded"
        ),
    ],
)
def test_one_outcome_per_attempt_from_its_facts(
    broadcast: bool, error: str | None, superseded: bool, mined: bool, outcome: str
) -> None:
    assert attempt_outcome(AttemptFacts(broadcast, error, superseded, mined)) == outcome


def _a(tx_hash: str, broadcast: bool, error: str | None = None) -> tuple[str, bool, str | None]:
    return tx_hash, broadcast, error


@pytest.mark.parametrize(
    ("state", "intent_hash", "attempts", "outcomes"),
    [
        pytest.param(
            IntentState.SIGNED, "0x1", [_a("0x1", False)], ["waiting to send"], id="signed"
        ),
        pytest.param(IntentState.SENT, "0x1", [_a("0x1", True)], ["pending"], id="sent"),
        pytest.param(
            IntentState.SENT,
            "0x1",
            [_a("0x1", True), _a("0x2", False), _a("0x3", False)],
            ["replaced", "never sent", "waiting to send"],
            id="replacements-written-ahead",
        ),
        pytest.param(
            IntentState.CONFIRMED,
            "0x1",
            [_a("0x1", True), _a("0x2", False), _a("0x3", False, UNDERPRICED)],
            ["mined", "never sent", f"refused: {UNDERPRICED}"],
            id="first-mined-replacements-never-broadcast",
        ),
        pytest.param(
            IntentState.MINED,
            "0x2",
            [_a("0x1", True), _a("0x2", True)],
            ["replaced", "mined"],
            id="replacement-mined",
        ),
        pytest.param(
            IntentState.SENT,
            "0x2",
            [_a("0x1", True), _a("0x2", True)],
            ["replaced", "pending"],
            id="mined-then-reorged-out",
        ),
        pytest.param(
            IntentState.CANCELLED,
            "0xc",
            [_a("0x1", True), _a("0xc", True)],
            ["replaced", "mined"],
            id="no-op-cancel-mined",
        ),
        pytest.param(IntentState.REVERTED, "0x1", [_a("0x1", True)], ["mined"], id="reverted"),
    ],
)
def test_an_intents_attempts_in_order(
    state: IntentState,
    intent_hash: str,
    attempts: list[tuple[str, bool, str | None]],
    outcomes: list[str],
) -> None:
    assert attempt_outcomes(state, intent_hash, attempts) == outcomes
