"""Maintenance.scan, the stuck decision, over one Newest row per case: nothing, a
replacement at the bumped fee, held at the ceiling, the no-op cancel (stale / expired), a
rebroadcast of the written-ahead bytes — and what a refusal or a stop leaves behind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from core.domain.chain import OUTSIDE, UNKNOWN, NonceAudit, Receipt
from core.domain.errors import SignerError, TransientError
from core.domain.fees import GWEI, Fees
from core.domain.mode import NONCE_ALARM
from core.domain.rows import Newest
from core.domain.states import IntentState
from core.services.maintenance import CANCEL_GAS, ScanResult
from tests.service.fakes import CHAIN_ID, GAS_LIMIT, SIGNERS, VENUE, fees, make_maintenance, newest
from tests.service.fakes_chain import MESSAGES, decode_raw

# The default market (FakeChain): next base fee 10 gwei, tip 2 gwei -> 22 / 2 gwei; the
# ceiling is 100 gwei; stuck after 30 s or 3 blocks (head 100); stale past 120 s.
BUMPED = fees("24.75", "2.25")  # ceil(1.125 x 22 / 2 gwei)
LONG_LIVED = {"max_signal_age_s": 3600.0, "sent_expiry_s": 300.0}  # expiry before staleness


@dataclass(frozen=True)
class Claimed:
    kind: str
    fees: Fees
    new_state: IntentState | None
    reason: str | None = None


@dataclass
class Case:
    row: Newest
    result: ScanResult
    state: IntentState  # the intent's state after the scan
    claimed: Claimed | None = None  # the new attempt written ahead
    wire: Literal["new", "same", None] = None  # on the wire: the new attempt / the row's bytes
    accepted: bool = False  # mark_broadcast of what went on the wire
    error: str | None = None  # recorded on the attempt that went on the wire
    base_fee: int = 10 * GWEI
    node: str = "ok"  # the node's answer to every raw
    stopped: bool = False
    cfg: Mapping[str, Any] = field(default_factory=dict)


REPLACED, CANCELLED = ScanResult(replaced=1), ScanResult(cancelled=1)
UNDERPRICED = f"underpriced: {MESSAGES['underpriced']}"
CASES = {
    "young-not-stuck": Case(newest(), ScanResult(), IntentState.SENT),
    "stuck-by-age": Case(
        newest(age_s=30), REPLACED, IntentState.SENT, Claimed("order", BUMPED, None), "new", True
    ),
    "stuck-by-blocks": Case(
        newest(broadcast_block=97),
        REPLACED,
        IntentState.SENT,
        Claimed("order", BUMPED, None),
        "new",
        True,
    ),
    "under-the-base-fee-bids-the-market": Case(
        newest(),
        REPLACED,
        IntentState.SENT,
        Claimed("order", fees(2 * 25 + 2, 2.25), None),
        "new",
        True,
        base_fee=25 * GWEI,
    ),
    "over-the-ceiling-held": Case(
        newest(age_s=60, fee=fees(95, 2)), ScanResult(held=1), IntentState.HELD
    ),
    "held-market-still-high": Case(
        newest(state=IntentState.HELD, age_s=60, fee=fees(50, 2)),
        ScanResult(),
        IntentState.HELD,
        base_fee=60 * GWEI,
    ),
    "held-market-fell-replaced-back-to-sent": Case(
        newest(state=IntentState.HELD, age_s=60, fee=fees(50, 2)),
        REPLACED,
        IntentState.SENT,
        Claimed("order", fees("56.25", "2.25"), IntentState.SENT),
        "new",
        True,
    ),
    "stale-signal-no-op-cancel": Case(
        newest(signal_age_s=121),
        CANCELLED,
        IntentState.CANCELLING,
        Claimed("cancel", BUMPED, IntentState.CANCELLING, "stale"),
        "new",
        True,
    ),
    "stale-held-cancel": Case(
        newest(state=IntentState.HELD, signal_age_s=121, fee=fees(50, 2)),
        CANCELLED,
        IntentState.CANCELLING,
        Claimed("cancel", fees("56.25", "2.25"), IntentState.CANCELLING, "stale"),
        "new",
        True,
    ),
    "stale-beats-rebroadcast": Case(
        newest(attempt_no=2, broadcast=False, signal_age_s=121),
        CANCELLED,
        IntentState.CANCELLING,
        Claimed("cancel", BUMPED, IntentState.CANCELLING, "stale"),
        "new",
        True,
    ),
    "expired-cancel": Case(
        newest(sent_age_s=300, signal_age_s=310),
        CANCELLED,
        IntentState.CANCELLING,
        Claimed("cancel", BUMPED, IntentState.CANCELLING, "expired"),
        "new",
        True,
        cfg=LONG_LIVED,
    ),
    "expired-over-a-refused-replacement": Case(
        newest(attempt_no=2, broadcast=False, sent_age_s=300, signal_age_s=310),
        CANCELLED,
        IntentState.CANCELLING,
        Claimed("cancel", BUMPED, IntentState.CANCELLING, "expired"),
        "new",
        True,
        cfg=LONG_LIVED,
    ),
    "expired-stuck-cancel-not-bump": Case(
        newest(age_s=60, sent_age_s=300, signal_age_s=310),
        CANCELLED,
        IntentState.CANCELLING,
        Claimed("cancel", BUMPED, IntentState.CANCELLING, "expired"),
        "new",
        True,
        cfg=LONG_LIVED,
    ),
    "expired-no-op-refused-stays-cancelling": Case(
        newest(sent_age_s=300, signal_age_s=310),
        CANCELLED,
        IntentState.CANCELLING,
        Claimed("cancel", BUMPED, IntentState.CANCELLING, "expired"),
        "new",
        error=UNDERPRICED,
        node="underpriced",
        cfg=LONG_LIVED,
    ),
    "expired-no-op-over-the-ceiling-nothing": Case(
        newest(age_s=60, fee=fees(95, 2), sent_age_s=300, signal_age_s=310),
        ScanResult(),
        IntentState.SENT,
        cfg=LONG_LIVED,
    ),
    "written-ahead-rebroadcast-same-bytes": Case(
        newest(attempt_no=2, broadcast=False),
        ScanResult(rebroadcast=1),
        IntentState.SENT,
        None,
        "same",
        True,
    ),
    "rebroadcast-refused-error-recorded": Case(
        newest(attempt_no=2, broadcast=False),
        ScanResult(),
        IntentState.SENT,
        None,
        "same",
        error=UNDERPRICED,
        node="underpriced",
    ),
    "refused-replacement-error-on-the-attempt": Case(
        newest(age_s=60),
        REPLACED,
        IntentState.SENT,
        Claimed("order", BUMPED, None),
        "new",
        error=UNDERPRICED,
        node="underpriced",
    ),
    "cancelling-stuck-bumps-the-no-op": Case(
        newest(
            state=IntentState.CANCELLING, kind="cancel", attempt_no=2, age_s=60, signal_age_s=200
        ),
        REPLACED,
        IntentState.CANCELLING,
        Claimed("cancel", BUMPED, None),
        "new",
        True,
    ),
    "signed-left-to-send": Case(
        newest(state=IntentState.SIGNED, broadcast=False), ScanResult(), IntentState.SIGNED
    ),
    "signed-stale-left-to-cancel-stale-signed": Case(
        newest(state=IntentState.SIGNED, broadcast=False, signal_age_s=500),
        ScanResult(),
        IntentState.SIGNED,
    ),
    "stop-flag-replacement-written-ahead": Case(
        newest(age_s=60), REPLACED, IntentState.SENT, Claimed("order", BUMPED, None), stopped=True
    ),
    "stop-flag-cancel-written-ahead": Case(
        newest(signal_age_s=121),
        CANCELLED,
        IntentState.CANCELLING,
        Claimed("cancel", BUMPED, IntentState.CANCELLING, "stale"),
        stopped=True,
    ),
    "stop-flag-no-rebroadcast": Case(
        newest(attempt_no=2, broadcast=False), ScanResult(), IntentState.SENT, stopped=True
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_scan(case: Case) -> None:
    rig = make_maintenance([case.row], stopped=case.stopped, **case.cfg)
    rig.chain.base_fee, rig.chain.default_kind = case.base_fee, case.node
    n = case.row

    assert rig.maintenance.scan() == case.result

    assert rig.attempts.state(n.intent_id) is case.state
    signed = rig.signer("alice").signed
    if case.claimed is None:
        assert rig.attempts.claims == []
        assert signed == []  # nothing signed without a claim
    else:
        (c,) = rig.attempts.claims
        got = Claimed(c.kind, c.fees, c.new_state, c.reason)
        assert got == case.claimed
        assert c.attempt_no == n.attempt_no + 1
        (tx,) = signed
        # The same nonce, at the claimed fees, never above the ceiling.
        assert (tx["nonce"], tx["chainId"], tx["value"], tx["type"]) == (n.nonce, CHAIN_ID, 0, 2)
        assert (tx["maxFeePerGas"], tx["maxPriorityFeePerGas"]) == (
            c.fees.max_fee_per_gas,
            c.fees.max_priority_fee_per_gas,
        )
        assert tx["maxFeePerGas"] <= rig.maintenance.cfg.fee_ceiling_wei
        if c.kind == "cancel":  # a 0-value self-send
            assert (tx["to"], tx["data"], tx["gas"]) == (SIGNERS["alice"][1], b"", CANCEL_GAS)
        else:
            assert (tx["to"], tx["data"], tx["gas"]) == (VENUE, n.calldata, GAS_LIMIT)
        assert decode_raw(c.raw)["nonce"] == n.nonce  # the bytes written ahead are these
    on_wire = {None: [], "same": [n.raw], "new": [c.raw for c in rig.attempts.claims]}
    assert rig.chain.sent == on_wire[case.wire]
    if case.stopped:
        assert rig.chain.guard_calls == 0
    wire_attempt = rig.attempts.claims[0].attempt_id if case.wire == "new" else n.attempt_id
    assert [b[0] for b in rig.attempts.broadcasts] == ([wire_attempt] if case.accepted else [])
    expected_errors = {wire_attempt: case.error} if case.error else {}
    assert rig.attempts.errors == expected_errors


def test_a_claim_lost_to_another_scanner_sends_nothing() -> None:
    n = newest(age_s=60)
    rig = make_maintenance([n])
    rig.attempts.taken.add((n.intent_id, n.attempt_no + 1))  # the other scanner's attempt 2
    assert rig.maintenance.scan() == ScanResult()
    assert rig.chain.sent == []
    assert rig.attempts.claims == []


def test_one_new_attempt_per_round() -> None:
    rig = make_maintenance([newest(age_s=60)])
    assert rig.maintenance.scan() == REPLACED
    assert rig.maintenance.scan() == ScanResult()  # the replacement is young
    assert len(rig.chain.sent) == 1


def test_reconcile_nonces_alarms_on_a_nonce_taken_by_an_unknown_transaction() -> None:
    n = newest()
    rig = make_maintenance([n])
    rig.chain.chain_nonces[n.signer_address] = n.nonce + 1
    rig.auditor.audits[(n.signer_address, n.nonce)] = NonceAudit(UNKNOWN, 100, "0xhead")
    assert rig.maintenance.reconcile_nonces() == 0
    assert NONCE_ALARM in rig.controls.notes
    assert rig.attempts.outside == []  # never re-signed on a guess
    assert rig.auditor.calls == [(n.signer_address, n.nonce, (n.tx_hash,))]


def test_a_stuck_looking_intent_whose_transaction_is_mined_gets_no_new_attempt() -> None:
    """Mined, not yet recorded (the watcher is behind): the receipt of its newest hash is
    read before deciding, so it is neither replaced nor cancelled nor held."""
    mined, stuck = newest(1, age_s=60), newest(2, signer="carol", age_s=60, nonce=3)
    rig = make_maintenance([mined, stuck])
    rig.chain.receipts_by_hash[mined.tx_hash] = Receipt(mined.tx_hash, 99, "0xb99", 1)
    assert rig.maintenance.scan() == REPLACED
    (c,) = rig.attempts.claims
    assert c.intent_id == stuck.intent_id


def test_reconcile_nonces_audits_no_nonce_that_our_own_mined_transaction_took() -> None:
    """A fan-out's intents are mined before the watcher records it: their nonces are below
    the count, but a receipt of our own hash settles it in one batched read — no bisecting
    audit per intent (a thousand of them stalled the watch queue for minutes)."""
    ours, theirs = newest(1, nonce=7), newest(2, signer="carol", nonce=3)
    rig = make_maintenance([ours, theirs])
    rig.chain.chain_nonces[ours.signer_address] = ours.nonce + 1
    rig.chain.chain_nonces[theirs.signer_address] = theirs.nonce + 1
    rig.chain.receipts_by_hash[ours.tx_hash] = Receipt(ours.tx_hash, 99, "0xb99", 1)
    assert rig.maintenance.reconcile_nonces() == 0
    assert rig.auditor.calls == [(theirs.signer_address, theirs.nonce, (theirs.tx_hash,))]


def test_reconcile_nonces_resigns_after_two_sightings_of_an_outside_spend() -> None:
    n = newest()
    rig = make_maintenance([n])
    rig.chain.chain_nonces[n.signer_address] = n.nonce + 1
    taken = NonceAudit(OUTSIDE, 100, "0xhead", "0xtheirs", 97, "0xb97")
    rig.auditor.audits[(n.signer_address, n.nonce)] = taken
    assert rig.maintenance.reconcile_nonces() == 0  # first sighting: remembered only
    assert rig.attempts.suspects == {n.intent_id: ("0xtheirs", 97, "0xb97")}
    assert rig.maintenance.reconcile_nonces() == 1
    assert rig.attempts.outside == [(n.intent_id, n.nonce, 50)]
    assert rig.attempts.state(n.intent_id) is IntentState.SENT  # re-signed at 50 and broadcast
    (tx,) = rig.signer("alice").signed
    assert (tx["nonce"], tx["to"], tx["data"]) == (50, VENUE, n.calldata)
    assert rig.attempts.suspects == {}


@pytest.mark.parametrize(
    "error",
    [SignerError("key disabled"), TransientError("KMS throttled")],
    ids=["signer-error", "signer-down"],
)
def test_one_intents_broken_signer_does_not_stall_the_others_in_the_round(
    error: Exception,
) -> None:
    carol = newest(1, signer="carol", age_s=60)  # its signer raises
    alice = newest(2, signer="alice", age_s=60, nonce=8)
    rig = make_maintenance([carol, alice])
    rig.signers.errors[SIGNERS["carol"][0]] = error

    assert rig.maintenance.scan() == REPLACED  # alice's, after carol's failed

    (c,) = rig.attempts.claims
    assert (c.intent_id, c.kind) == (2, "order")
    assert rig.attempts.state(1) is IntentState.SENT  # carol's waits for the next round
