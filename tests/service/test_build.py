"""Pipeline.build (check_mode again, then created -> signed): who is signed, at which nonce,
and who ends failed / rejected / dry_run / waiting, before any nonce is taken."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

import core.services.execution
from core.domain.errors import SignerError, TransientError, UnsafeToSend
from core.domain.fees import GWEI
from core.domain.risk import LeaderOrder, Policy
from core.domain.rows import FollowerRow, SignalRow, SizingInput
from core.domain.sizing import parse_sizing
from core.domain.states import IntentState, SignalState
from core.domain.types import USD, Action, Mode, Side
from core.services.execution import order_call
from tests.service.fakes import CHAIN_ID, CHAIN_NONCES, GAS_LIMIT, SIGNERS, VENUE, make_pipeline
from tests.service.fakes import HeartbeatStatus as HB
from tests.service.fakes_chain import FakeSigner, decode_raw

# The default market: base 10 gwei, tip 2 gwei -> max fee 22 gwei; worst-case gas per order:
NEED = 22 * GWEI * GAS_LIMIT


@dataclass
class Case:
    expect: Mapping[int, tuple[IntentState, str | None]]  # intent -> (state, reason)
    orders: tuple[tuple[int, str], ...] = ((1, "alice"), (2, "bob"))
    nonces: Mapping[int, int] = field(default_factory=dict)  # signed intent -> its nonce
    next_nonce: Mapping[str, int] = field(default_factory=dict)  # signer -> after the build
    source_errors: Mapping[str, Exception] = field(default_factory=dict)  # SignerSource raises
    sign_once_fails: tuple[str, ...] = ()  # the signer's first sign_transaction: throttled
    mismatched: tuple[str, ...] = ()  # the ref resolves to another key
    balances: Mapping[str, int] = field(default_factory=dict)
    out_of_cohort: tuple[int, ...] = ()
    requested: Mode = Mode.LIVE
    stopped: bool = False
    heartbeat: HB = "fresh"
    controls_unreadable: bool = False
    age_s: float = 1.0
    profile: str = "standard"
    raises: type[Exception] | None = None


S, C, F, R, D = (
    IntentState.SIGNED,
    IntentState.CREATED,
    IntentState.FAILED,
    IntentState.REJECTED,
    IntentState.DRY_RUN,
)
CREATED_BOTH = {1: (C, None), 2: (C, None)}
CASES = {
    "all-signed-in-nonce-order": Case(
        {1: (S, None), 2: (S, None), 3: (S, None)},
        orders=((1, "alice"), (2, "bob"), (3, "alice")),
        nonces={1: 7, 2: 3, 3: 8},
        next_nonce={"alice": 9, "bob": 4},
    ),
    "signer-service-down-waits": Case(
        {1: (S, None), 2: (C, None), 3: (S, None)},
        orders=((1, "alice"), (2, "bob"), (3, "carol")),
        source_errors={"bob": TransientError("kms: throttled")},
        nonces={1: 7, 3: 0},
        next_nonce={"alice": 8, "carol": 0 + 1},
    ),
    "throttled-sign-keeps-the-signers-order": Case(
        {1: (C, None), 2: (C, None), 3: (S, None)},
        orders=((1, "alice"), (2, "alice"), (3, "bob")),
        sign_once_fails=("alice",),
        nonces={3: 3},
        next_nonce={"alice": 7, "bob": 4},
    ),
    "signer-mismatch": Case(
        {1: (S, None), 2: (F, "signer_mismatch")}, mismatched=("bob",), nonces={1: 7}
    ),
    "signer-error": Case(
        {1: (S, None), 2: (F, "signer_error")},
        source_errors={"bob": SignerError("env:BOB_KEY: variable not set")},
        nonces={1: 7},
    ),
    "unaffordable": Case(
        {1: (S, None), 2: (R, f"insufficient_funds: {NEED - 1} wei < {NEED} wei of gas and fees")},
        balances={"bob": NEED - 1},
        nonces={1: 7},
    ),
    "exactly-affordable": Case(
        {1: (S, None), 2: (S, None)}, balances={"bob": NEED}, nonces={1: 7, 2: 3}
    ),
    "second-order-of-a-signer-unaffordable": Case(
        {
            1: (S, None),
            2: (R, f"insufficient_funds: {2 * NEED - 1} wei < {2 * NEED} wei of gas and fees"),
        },
        orders=((1, "alice"), (2, "alice")),
        balances={"alice": 2 * NEED - 1},
        nonces={1: 7},
        next_nonce={"alice": 8},
    ),
    "requested-dry": Case({1: (D, None), 2: (D, None)}, requested=Mode.DRY),
    "canary-out-of-cohort-is-dry": Case(
        {1: (S, None), 2: (D, None)}, profile="canary", out_of_cohort=(2,), nonces={1: 7}
    ),
    "forced-dry-stop-flag": Case(CREATED_BOTH, stopped=True, raises=UnsafeToSend),
    "forced-dry-heartbeat-stale": Case(CREATED_BOTH, heartbeat="stale", raises=UnsafeToSend),
    "forced-dry-heartbeat-missing": Case(CREATED_BOTH, heartbeat="missing", raises=UnsafeToSend),
    "forced-dry-streak-short": Case(CREATED_BOTH, heartbeat="low_streak", raises=UnsafeToSend),
    "forced-dry-mode-store-down": Case(CREATED_BOTH, heartbeat="unreadable", raises=UnsafeToSend),
    "forced-dry-controls-unreadable": Case(
        CREATED_BOTH, controls_unreadable=True, raises=UnsafeToSend
    ),
    "stale-live": Case({1: (R, "stale"), 2: (R, "stale")}, age_s=121),
    "stale-forced-dry": Case({1: (R, "stale"), 2: (R, "stale")}, age_s=121, stopped=True),
    "at-max-age-still-signed": Case({1: (S, None), 2: (S, None)}, age_s=120, nonces={1: 7, 2: 3}),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_build(case: Case) -> None:
    rig = make_pipeline(
        case.requested, case.stopped, case.heartbeat, case.age_s, profile=case.profile
    )
    rig.controls.unreadable = case.controls_unreadable
    orders = {i: rig.order(i, who, in_cohort=i not in case.out_of_cohort) for i, who in case.orders}
    for name, exc in case.source_errors.items():
        rig.signers.errors[SIGNERS[name][0]] = exc
    for name in case.sign_once_fails:
        rig.signer(name).fail_with, rig.signer(name).fails = TransientError("kms: throttled"), 1
    for name in case.mismatched:
        rig.signers.signers[SIGNERS[name][0]] = FakeSigner("0x" + "ee" * 20)
    for name, wei in case.balances.items():
        rig.chain.balances[SIGNERS[name][1]] = wei

    if case.raises is not None:
        with pytest.raises(case.raises):
            rig.pipeline.build(rig.pk)
    else:
        n = rig.pipeline.build(rig.pk)
        assert n == sum(1 for st, _ in case.expect.values() if st is S)

    got = {i: (rig.intents.state(i), rig.intents.reason(i)) for i in orders}
    assert got == dict(case.expect)
    for i, t in orders.items():
        row, first = rig.intents.intents[i], rig.intents.first_attempt(i)
        if i in case.nonces:  # signed: its nonce, and the bytes written ahead
            assert row.nonce == case.nonces[i]
            assert first is not None
            tx = decode_raw(first.raw)
            assert (tx["nonce"], tx["from"], tx["chainId"]) == (
                case.nonces[i],
                t.signer_address,
                CHAIN_ID,
            )
            assert tx["data"] == rig.venue.encode_order(order_call(t)).hex()
        else:  # no nonce taken, nothing written ahead
            assert row.nonce is None
            assert first is None
        if row.state is D:  # the exact calldata LIVE would have sent, simulated from its signer
            assert row.calldata == rig.venue.encode_order(order_call(t))
            assert (VENUE, row.calldata, t.signer_address) in rig.chain.eth_calls
    assert len(rig.signers.all_signed()) == len(case.nonces)  # nothing else was signed
    for name, nonce in case.next_nonce.items():
        assert rig.intents.next_nonce.get(SIGNERS[name][1]) == nonce
    for name in (
        *case.mismatched,
        *(n for n, e in case.source_errors.items() if isinstance(e, SignerError)),
    ):
        assert SIGNERS[name][1] not in rig.intents.next_nonce  # no signer row for a failed ref


@pytest.mark.parametrize("when", ["after-the-check", "at-the-lock"])
def test_an_intent_created_after_the_check_is_not_signed(
    when: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_pipeline()
    rig.order(1, "alice")

    def sized_meanwhile() -> None:  # another worker sized a second order of the signal
        rig.order(2, "alice")

    if when == "at-the-lock":
        rig.intents.on_sign_created = sized_meanwhile
    else:  # at the pause point between check_mode's checks and the signing

        def pause(name: str) -> None:
            if name == "build.after_check":
                sized_meanwhile()

        monkeypatch.setattr(core.services.execution, "pause", pause)
    assert rig.pipeline.build(rig.pk) == 1
    assert (rig.intents.state(1), rig.intents.state(2)) == (IntentState.SIGNED, IntentState.CREATED)
    assert rig.intents.intents[2].nonce is None
    assert rig.intents.next_nonce[SIGNERS["alice"][1]] == 8  # only intent 1 took a nonce
    assert len(rig.signers.all_signed()) == 1


def test_a_signal_that_ages_past_max_before_the_lock_is_not_signed() -> None:
    rig = make_pipeline(age_s=119)
    rig.order(1, "alice")
    rig.intents.on_sign_created = lambda: rig.intents.add_signal(rig.pk, 121)
    assert rig.pipeline.build(rig.pk) == 0
    assert (rig.intents.state(1), rig.intents.reason(1)) == (IntentState.REJECTED, "stale")
    assert rig.signers.all_signed() == []


def test_the_signed_transaction_is_the_venue_order_at_the_capped_market_fee() -> None:
    rig = make_pipeline(fee_ceiling_wei=15 * GWEI)  # the market asks 22 gwei
    t = rig.order(1, "bob")
    rig.pipeline.build(rig.pk)
    (tx,) = rig.signer("bob").signed
    assert tx == {
        "type": 2,
        "chainId": CHAIN_ID,
        "nonce": CHAIN_NONCES["bob"],
        "to": VENUE,
        "value": 0,
        "data": rig.venue.encode_order(order_call(t)),
        "gas": GAS_LIMIT,
        "maxFeePerGas": 15 * GWEI,
        "maxPriorityFeePerGas": 2 * GWEI,
    }
    a = rig.intents.first_attempt(1)
    assert a is not None
    assert (a.fees.max_fee_per_gas, a.fees.max_priority_fee_per_gas, a.gas_limit) == (
        15 * GWEI,
        2 * GWEI,
        GAS_LIMIT,
    )


def test_an_existing_signer_row_is_never_reset_from_the_chain() -> None:
    rig = make_pipeline()
    rig.intents.next_nonce[SIGNERS["alice"][1]] = 12  # ours: ahead of the chain's 7
    rig.order(1, "alice")
    rig.pipeline.build(rig.pk)
    assert rig.intents.intents[1].nonce == 12
    assert all(SIGNERS["alice"][1] not in addrs for addrs, _ in rig.chain.nonce_reads)


def test_a_failed_simulation_is_recorded_on_the_dry_run() -> None:
    rig = make_pipeline(Mode.DRY)
    rig.order(1, "alice")
    rig.chain.call_error = "execution reverted"
    assert rig.pipeline.build(rig.pk) == 0
    assert rig.intents.state(1) is IntentState.DRY_RUN
    assert rig.intents.reason(1) == "simulation: eth_call: execution reverted"


def test_build_twice_signs_once() -> None:
    rig = make_pipeline()
    rig.order(1, "alice")
    assert rig.pipeline.build(rig.pk) == 1
    assert rig.pipeline.build(rig.pk) == 0
    assert len(rig.signers.all_signed()) == 1
    assert rig.intents.next_nonce[SIGNERS["alice"][1]] == 8


def _sizing_input(intent_id: int) -> SizingInput:
    policy = Policy(10, 10**6 * USD, frozenset({"BTC"}), parse_sizing("ratio:1"))
    follower = FollowerRow(10, 1, 1, "0x" + "1e" * 20, SIGNERS["alice"][1], SIGNERS["alice"][0],
                           False, False, True, policy)  # fmt: skip
    return SizingInput(intent_id, follower, [])


@pytest.mark.parametrize(
    ("age_s", "rejected", "sized"),
    [(121.0, {1: "stale"}, set()), (120.0, {}, {1})],
    ids=["past-max-age-rejected-unsized", "at-max-age-sized"],
)
def test_size(age_s: float, rejected: dict[int, str], sized: set[int]) -> None:
    rig = make_pipeline()
    order = LeaderOrder(Action.OPEN, "BTC", Side.LONG, 100 * USD, 2)
    rig.signals.signals[rig.pk] = SignalRow(
        rig.pk, "sig-1", 1, order, 100_000 * USD, SignalState.DISPATCHED, None, age_s
    )
    rig.signals.pending[rig.pk] = [_sizing_input(1)]
    rig.pipeline.size(rig.pk)
    assert rig.signals.rejected == rejected
    assert set(rig.signals.sized) == sized
    assert all(decision.accepted and price for decision, price in rig.signals.sized.values())


def test_a_key_that_refuses_to_sign_fails_its_intent_alone() -> None:
    rig = make_pipeline()
    rig.order(1, "alice")
    rig.order(2, "bob")
    bob = rig.signers.signers[SIGNERS["bob"][0]]

    def refuse(tx: dict[str, Any]) -> Any:
        raise SignerError("kms key disabled")

    bob.sign_transaction = refuse  # type: ignore[method-assign]
    assert rig.pipeline.build(rig.pk) == 1
    assert rig.intents.state(1) is IntentState.SIGNED
    assert (rig.intents.state(2), rig.intents.reason(2)) == (IntentState.FAILED, "signer_error")
