"""The records the stores hand to the services (and take back): plain values, no
connection, no ORM row. Each store adapter builds them from its tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.domain.accounts import AccountExposure
from core.domain.fees import Fees
from core.domain.risk import Decision, LeaderOrder, Policy
from core.domain.states import IntentState, SignalState
from core.domain.types import Action


@dataclass(frozen=True)
class ToSign:
    intent_id: int
    follower_id: int
    signer_ref: str
    signer_address: str
    idempotency_key: str
    action: str
    asset: str
    side: str
    collateral_usd_1e6: int
    leverage_x: int
    acceptable_price_usd_1e6: int
    in_cohort: bool
    # action `cancel` (CANCEL_ACTION): the venue order key of the request it cancels
    venue_order_key: str | None = None
    # a decrease in proportion: the fraction of the position (18 decimals), from the signal
    fraction_1e18: int | None = None
    # the wallet the signer trades for as its subaccount (None: the signer's own address)
    subaccount_of: str | None = None
    # its following's part of a venue position its account's followings share (the
    # fraction then includes that share): never more than `notional_usd_1e6` of it moves
    shared: bool = False
    notional_usd_1e6: int | None = None

    @property
    def account(self) -> str:
        """Whose order, position and collateral (the signer pays gas and takes the nonce)."""
        return self.subaccount_of or self.signer_address


@dataclass(frozen=True)
class Signed:
    """What the signing callback returns for one intent."""

    raw: bytes
    tx_hash: str
    calldata: bytes
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    gas_limit: int


@dataclass(frozen=True)
class ToSend:
    intent_id: int
    attempt_id: int
    tx_hash: str
    raw: bytes
    is_cancel: bool = False  # copytrade's cancel of a request: no copy, no max age


@dataclass(frozen=True)
class InFlightIntent:
    intent_id: int
    state: IntentState
    hashes: tuple[str, ...]  # every attempt, oldest first
    kinds: tuple[str, ...]  # order | cancel, per attempt
    broadcast: tuple[bool, ...]  # accepted by a node at least once, per attempt
    block_number: int | None
    signer_address: str
    calldata: bytes
    sent_at: datetime | None = None  # first accepted broadcast of the intent
    action: str = ""  # CANCEL_ACTION: copytrade's cancel of a request (one-phase: its receipt)


@dataclass(frozen=True)
class AwaitingOutcome:
    """A request on a two-phase venue whose outcome is not yet final (mined, frozen,
    or executed and not yet N blocks deep)."""

    intent_id: int
    state: IntentState
    account: str  # whose request (a subaccount's request is its wallet's)
    tx_hash: str
    block_number: int  # the request's block
    order_key: str | None
    executed_block: int | None = None
    executed_block_hash: str | None = None
    signal_pk: int = 0
    cancel_asked: bool = False  # copytrade's cancel of it (leg 1) exists already


@dataclass(frozen=True)
class Mined:
    """An order's receipt applied to its intent (watching)."""

    intent_id: int
    state: IntentState  # the intent's state when read
    tx_hash: str
    block_number: int
    block_hash: str
    hashes: tuple[str, ...]  # every attempt of the intent

    def params(self) -> dict[str, Any]:
        return {
            "b_id": self.intent_id,
            "b_hash": self.tx_hash,
            "b_block": self.block_number,
            "b_bhash": self.block_hash,
        }


@dataclass(frozen=True)
class Newest:
    """An in-flight intent with its newest attempt."""

    intent_id: int
    state: IntentState
    signer_ref: str
    signer_address: str
    nonce: int
    calldata: bytes
    attempt_id: int
    attempt_no: int
    kind: str
    tx_hash: str
    raw: bytes
    fees: Fees
    gas_limit: int
    broadcast: bool  # accepted by a node at least once
    age_s: float  # since that broadcast (0 when never broadcast)
    broadcast_block: int | None
    signal_age_s: float
    sent_age_s: float = 0.0  # since the intent's first accepted broadcast (0: never sent)


@dataclass(frozen=True)
class FollowerRow:
    id: int
    tg_user_id: int
    leader_id: int
    leader_address: str
    address: str
    signer_ref: str
    paused: bool
    circuit_breaker: bool
    in_cohort: bool
    policy: Policy
    subaccount_of: str | None = None  # the wallet `address` trades for as its subaccount
    removed: bool = False  # removed by the operator: no new intents
    account_id: int = 0  # the follower account this following belongs to (0012)

    @property
    def account(self) -> str:
        return self.subaccount_of or self.address


@dataclass(frozen=True)
class SignalRow:
    pk: int
    signal_id: str
    leader_id: int
    order: LeaderOrder
    price_usd_1e6: int | None
    state: SignalState
    reason: str | None
    age_s: float
    leader_equity_usd_1e6: int | None = None  # the producer's figure (equity-ratio)


@dataclass(frozen=True)
class SizingInput:
    intent_id: int
    follower: FollowerRow
    exposure_legs: list[tuple[Action, int]]
    account: AccountExposure | None = None  # an account with limits: its followings' exposure


SizingOutcome = tuple[Decision, int | None]  # (decision, acceptable price)


@dataclass(frozen=True)
class WatchedLeader:
    id: int
    address: str
    watched_to: int | None


@dataclass(frozen=True)
class LeaderTxRow:
    tx_hash: str
    action_index: int
    leader_id: int
    status: str  # signal | ignored
    reason: str | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class OpenWindow:
    """A broadcast window a stop waits for: its database backend and how long it is open."""

    pid: int
    client: str
    open_s: float

    def __str__(self) -> str:
        return f"backend {self.pid} ({self.client}) open {self.open_s:.1f} s"


@dataclass
class Stalled:
    dispatch: list[tuple[int, str]]  # (signal pk, first step to run again)
    poisoned: int
    locked_out: bool = False


@dataclass(frozen=True)
class Assigned:
    intent_id: int
    signer: str
    nonce: int
    state: str
    key: str
    kind_mined: str | None  # the tx_hash recorded when mined / cancelled
