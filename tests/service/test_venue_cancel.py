"""copytrade's cancel of a request no keeper handled (decision 0021) in the pipeline:
an intent of action `cancel` is signed and sent whatever its signal's age (it is no
copy: it takes risk away), with the venue's cancel calldata and no value; the mode still
holds it, and the copies of the same old signal still end stale."""

from __future__ import annotations

import pytest

from core.domain.errors import UnsafeToSend
from core.domain.states import IntentState
from tests.service.fakes import make_pipeline
from tests.service.fakes_chain import VENUE

KEY = "0x" + "ab" * 32
PAST_MAX_AGE = 500.0  # the rig's max signal age is 120 s; a request expires after 300


def test_a_cancel_is_signed_past_its_signals_max_age_and_a_copy_is_not() -> None:
    rig = make_pipeline(age_s=PAST_MAX_AGE)
    rig.order(1, "bob")  # a copy of the same signal, still created (its signer was down)
    rig.cancel(2, KEY, "alice")
    assert rig.pipeline.build(rig.pk) == 1
    assert (rig.intents.state(1), rig.intents.reason(1)) == (IntentState.REJECTED, "stale")
    assert rig.intents.state(2) is IntentState.SIGNED
    (tx,) = rig.signer("alice").signed
    assert tx["to"] == VENUE
    assert tx["data"] == rig.venue.cancel_request(KEY)
    assert tx["value"] == 0  # a cancel sends no execution fee


def test_a_cancel_waits_under_an_effective_dry() -> None:
    rig = make_pipeline(age_s=PAST_MAX_AGE, stopped=True)
    rig.cancel(1, KEY)
    with pytest.raises(UnsafeToSend):
        rig.pipeline.build(rig.pk)
    assert rig.intents.state(1) is IntentState.CREATED
    assert rig.signer("alice").signed == []


def test_a_signed_cancel_is_sent_past_its_signals_max_age_and_a_signed_copy_waits() -> None:
    rig = make_pipeline(age_s=PAST_MAX_AGE)
    _, copy_raw = rig.signed(1, "bob", 3)
    _, cancel_raw = rig.signed(2, "alice", 7, key=KEY)
    assert rig.pipeline.send(rig.pk) == 1
    assert rig.chain.sent == [cancel_raw]  # the copy's nonce is the no-op cancel's to consume
    assert copy_raw not in rig.chain.sent
    assert (rig.intents.state(1), rig.intents.state(2)) == (IntentState.SIGNED, IntentState.SENT)
