"""In-memory implementations of the ports (core/ports.py) for the service tier, and
builders wiring them into the real Pipeline / Maintenance / ModeService.

The controls and the heartbeat live here; the node, signers and venue in fakes_chain.py;
the stores in fakes_store.py and fakes_attempts.py. Money is int wei throughout."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from core.adapters.prices import FixturePrices
from core.domain.errors import TransientError
from core.domain.fees import GWEI, Fees
from core.domain.mode import EMERGENCY_STOP, REQUESTED_MODE, STREAK_THRESHOLD, Heartbeat
from core.domain.rows import Newest, OpenWindow, ToSign
from core.domain.states import IntentState
from core.domain.types import CANCEL_ACTION, USD, Mode, Wei
from core.services.execution import ExecutionConfig, Pipeline
from core.services.maintenance import Maintenance, MaintenanceConfig
from core.services.mode import ModeService
from tests.service.fakes_attempts import FakeAttempts
from tests.service.fakes_chain import (
    VENUE as VENUE,
)
from tests.service.fakes_chain import (
    FakeChain,
    FakeNonceAuditor,
    FakeSigner,
    FakeSigners,
    FakeVenue,
    tx_hash_of,
)
from tests.service.fakes_store import FakeIntents, FakeSignals

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
CHAIN_ID = 31337
GAS_LIMIT = 200_000
PERIOD_S = 2.0
WINDOW_S = 15.0
# name -> (signer reference, address); their nonces on the chain before our first use
SIGNERS = {
    "alice": ("env:ALICE_KEY", "0x" + "a1" * 20),
    "bob": ("env:BOB_KEY", "0x" + "b0" * 20),
    "carol": ("kms:carol", "0x" + "c4" * 20),
}
CHAIN_NONCES = {"alice": 7, "bob": 3, "carol": 0}
RICH = 10**18  # wei: 1 ETH


class FakeDispatcher:
    """Dispatcher: records (signal pk, first step) of every chain enqueued."""

    def __init__(self) -> None:
        self.dispatched: list[tuple[int, str]] = []

    def dispatch(self, signal_pk: int, start: str = "validate", countdown: float = 0) -> bool:
        self.dispatched.append((signal_pk, start))
        return True


class Clock:
    """A monotonic clock that moves only when told (the `clock` fixture installs it)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start

    def monotonic(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def _stopped(value: str | None) -> bool:
    return value != "off"  # as the real store: a missing or unknown value means stopped


class FakeControls:
    """Controls: the requested mode and the stop flag as stored values, a database clock
    that moves 1 ms per read, notes, and broadcast windows that are counted (no lock)."""

    def __init__(self, requested: Mode | None = Mode.LIVE, stopped: bool = False) -> None:
        self.values: dict[str, str] = {EMERGENCY_STOP: "on" if stopped else "off"}
        if requested is not None:
            self.values[REQUESTED_MODE] = requested.value
        self.now = T0
        self.unreadable = False  # snapshot_at raises TransientError (PostgreSQL down)
        self.audit: list[tuple[str, str, str, str | None]] = []
        self.notes: dict[str, str] = {}
        self.bounds: list[float] = []  # bound_s of every window opened
        self.opened: list[datetime] = []  # the database time each window opened
        self.open_windows = 0
        self.waits = 0

    def _tick(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def stop(self, on: bool = True) -> None:
        self.values[EMERGENCY_STOP] = "on" if on else "off"

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str, actor: str, reason: str | None) -> None:
        self.values[key] = value
        self.audit.append((key, value, actor, reason))

    def snapshot(self) -> tuple[str | None, bool]:
        requested, stopped, _ = self.snapshot_at()
        return requested, stopped

    def snapshot_at(self) -> tuple[str | None, bool, datetime]:
        if self.unreadable:
            raise TransientError("controls: connection refused")
        v = self.values
        return v.get(REQUESTED_MODE), _stopped(v.get(EMERGENCY_STOP)), self._tick()

    @contextmanager
    def broadcast_window(self, bound_s: float) -> Iterator[tuple[bool, datetime]]:
        self.bounds.append(bound_s)
        self.opened.append(self._tick())
        self.open_windows += 1
        try:
            yield _stopped(self.values.get(EMERGENCY_STOP)), self.opened[-1]
        finally:
            self.open_windows -= 1

    def wait_for_windows(
        self, on_wait: Callable[[list[OpenWindow]], None] | None = None, every_s: float = 1.0
    ) -> None:
        self.waits += 1

    def note(self, key: str, value: str) -> None:
        self.notes[key] = value

    def noted(self, key: str) -> tuple[str, float] | None:
        return (self.notes[key], 0.0) if key in self.notes else None

    def get_or_record(self, key: str, value: str) -> str:
        return self.values.setdefault(key, value)


HeartbeatStatus = Literal["fresh", "stale", "missing", "low_streak", "unreadable"]


class FakeHeartbeats:
    """Heartbeats: what the mode store answers (core/domain/mode.py evaluate()). fresh:
    beaten 0.1 s ago with a full streak; stale: last beat 3 periods ago; missing: never
    beaten; low_streak: one slot short; unreadable: the store did not answer (None)."""

    NOW_US = 1_700_000_000_000_000

    def __init__(self, status: HeartbeatStatus = "fresh", period_s: float = PERIOD_S) -> None:
        self.status: HeartbeatStatus = status
        self.period_s = period_s

    def read(self) -> Heartbeat | None:
        now = self.NOW_US
        if self.status == "fresh":
            return Heartbeat(now, STREAK_THRESHOLD, now - 100_000)
        if self.status == "stale":
            return Heartbeat(now, STREAK_THRESHOLD, now - int(3 * self.period_s * 1_000_000))
        if self.status == "missing":
            return Heartbeat(now, 0, None)
        if self.status == "low_streak":
            return Heartbeat(now, STREAK_THRESHOLD - 1, now)
        return None


def make_mode(
    requested: Mode | None = Mode.LIVE,
    stopped: bool = False,
    heartbeat: HeartbeatStatus = "fresh",
    window_s: float = WINDOW_S,
) -> tuple[ModeService, FakeControls, FakeHeartbeats]:
    controls, beats = FakeControls(requested, stopped), FakeHeartbeats(heartbeat)
    return ModeService(controls, beats, PERIOD_S, window_s), controls, beats


def to_sign(intent_id: int, signer: str = "alice", in_cohort: bool = True) -> ToSign:
    """A sized, risk-checked order of `signer`'s follower (100 USD x2 BTC long)."""
    ref, address = SIGNERS[signer]
    return ToSign(
        intent_id=intent_id,
        follower_id=10 + list(SIGNERS).index(signer),
        signer_ref=ref,
        signer_address=address,
        idempotency_key="0x" + f"{intent_id:064x}",
        action="open",
        asset="BTC",
        side="long",
        collateral_usd_1e6=100 * USD,
        leverage_x=2,
        acceptable_price_usd_1e6=101_000 * USD,
        in_cohort=in_cohort,
    )


def cancel_of(t: ToSign, key: str) -> ToSign:
    """`t` as copytrade's cancel of a request (what ReceiptStore.ask_cancel creates)."""
    return replace(
        t,
        action=CANCEL_ACTION,
        collateral_usd_1e6=0,
        leverage_x=0,
        acceptable_price_usd_1e6=0,
        venue_order_key=key,
    )


def _world() -> tuple[FakeChain, FakeSigners]:
    chain, signers = FakeChain(), FakeSigners()
    for name, (ref, address) in SIGNERS.items():
        signers.signers[ref] = FakeSigner(address)
        chain.balances[address] = RICH
        chain.chain_nonces[address] = CHAIN_NONCES[name]
    return chain, signers


@dataclass
class PipelineRig:
    pipeline: Pipeline
    mode: ModeService
    controls: FakeControls
    heartbeats: FakeHeartbeats
    signals: FakeSignals
    intents: FakeIntents
    chain: FakeChain
    signers: FakeSigners
    venue: FakeVenue
    dispatcher: FakeDispatcher
    pk: int = 1

    def order(self, intent_id: int, signer: str = "alice", in_cohort: bool = True) -> ToSign:
        """A created intent of this rig's signal."""
        t = to_sign(intent_id, signer, in_cohort)
        self.intents.add(t, self.pk)
        return t

    def cancel(self, intent_id: int, key: str, signer: str = "alice") -> ToSign:
        """A created cancel (action `cancel`) of the request with venue order `key`."""
        t = cancel_of(to_sign(intent_id, signer), key)
        self.intents.add(t, self.pk)
        return t

    def signed(
        self, intent_id: int, signer: str = "alice", nonce: int = 7, key: str | None = None
    ) -> tuple[int, bytes]:
        """A signed intent of this rig's signal: (attempt id, its written-ahead raw); with
        `key`, a cancel of that request."""
        t = to_sign(intent_id, signer)
        t = t if key is None else cancel_of(t, key)
        raw = f"raw-order-{intent_id}".encode()
        return self.intents.add_signed(t, self.pk, nonce, raw, tx_hash_of(raw)), raw

    def signer(self, name: str) -> FakeSigner:
        return self.signers.signers[SIGNERS[name][0]]


def execution_config(**overrides: Any) -> ExecutionConfig:
    cfg = ExecutionConfig(
        chain_id=CHAIN_ID,
        profile="standard",
        max_signal_age_s=120,
        gas_limit=GAS_LIMIT,
        min_tip_wei=GWEI // 10,
        fee_ceiling_wei=500 * GWEI,
    )
    return replace(cfg, **overrides)


def make_pipeline(
    requested: Mode | None = Mode.LIVE,
    stopped: bool = False,
    heartbeat: HeartbeatStatus = "fresh",
    age_s: float = 1.0,
    **cfg: Any,
) -> PipelineRig:
    mode, controls, beats = make_mode(requested, stopped, heartbeat)
    chain, signers = _world()
    signals, intents, venue = FakeSignals(), FakeIntents(), FakeVenue()
    intents.add_signal(1, age_s)
    # One in-memory table behind both ports, as one database is behind the two real stores.
    cfg_ = execution_config(**cfg)
    dispatcher = FakeDispatcher()
    pipeline = Pipeline(
        signals, intents, intents, chain, mode, cfg_, venue, signers, dispatcher, FixturePrices({})
    )
    return PipelineRig(
        pipeline, mode, controls, beats, signals, intents, chain, signers, venue, dispatcher
    )


@dataclass
class MaintenanceRig:
    maintenance: Maintenance
    mode: ModeService
    controls: FakeControls
    heartbeats: FakeHeartbeats
    attempts: FakeAttempts
    chain: FakeChain
    signers: FakeSigners
    auditor: FakeNonceAuditor

    def signer(self, name: str) -> FakeSigner:
        return self.signers.signers[SIGNERS[name][0]]


def maintenance_config(**overrides: Any) -> MaintenanceConfig:
    cfg = MaintenanceConfig(
        chain_id=CHAIN_ID,
        fee_ceiling_wei=100 * GWEI,
        min_tip_wei=GWEI // 10,
        stuck_after_s=30.0,
        stuck_after_blocks=3,
        sent_expiry_s=600.0,
        max_signal_age_s=120.0,
        confirmations=2,
    )
    return replace(cfg, **overrides)


def make_maintenance(
    rows: Iterable[Newest] = (),
    requested: Mode | None = Mode.LIVE,
    stopped: bool = False,
    heartbeat: HeartbeatStatus = "fresh",
    **cfg: Any,
) -> MaintenanceRig:
    mode, controls, beats = make_mode(requested, stopped, heartbeat)
    chain, signers = _world()
    attempts, auditor = FakeAttempts(rows), FakeNonceAuditor()
    m = Maintenance(attempts, chain, mode, maintenance_config(**cfg), signers, auditor, FakeVenue())
    return MaintenanceRig(m, mode, controls, beats, attempts, chain, signers, auditor)


def fees(max_fee_gwei: int | str, tip_gwei: int | str) -> Fees:
    """Fees in gwei (int, or a decimal string such as "22.5"): never a float."""
    return Fees(Wei(int(Decimal(max_fee_gwei) * GWEI)), Wei(int(Decimal(tip_gwei) * GWEI)))


def newest(
    intent_id: int = 1,
    state: IntentState = IntentState.SENT,
    *,
    signer: str = "alice",
    nonce: int = 7,
    attempt_no: int = 1,
    kind: str = "order",
    fee: Fees | None = None,
    broadcast: bool = True,
    age_s: float = 5.0,
    broadcast_block: int | None = 99,
    signal_age_s: float = 10.0,
    sent_age_s: float = 5.0,
) -> Newest:
    """An in-flight intent's newest attempt: by default sent 5 s (one block) ago at
    22 / 2 gwei, which is what the default FakeChain market asks."""
    ref, address = SIGNERS[signer]
    raw = f"raw-{intent_id}-{attempt_no}".encode()
    return Newest(
        intent_id=intent_id,
        state=state,
        signer_ref=ref,
        signer_address=address,
        nonce=nonce,
        calldata=FakeVenue.order_selector + f"order-{intent_id}".encode(),
        attempt_id=100 * intent_id + attempt_no,
        attempt_no=attempt_no,
        kind=kind,
        tx_hash=tx_hash_of(raw),
        raw=raw,
        fees=fee or fees(22, 2),
        gas_limit=GAS_LIMIT,
        broadcast=broadcast,
        age_s=age_s if broadcast else 0.0,
        broadcast_block=broadcast_block if broadcast else None,
        signal_age_s=signal_age_s,
        sent_age_s=sent_age_s,
    )
