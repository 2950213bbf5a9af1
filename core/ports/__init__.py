"""The ports the services depend on: one narrow Protocol per consumer, holding what that
service calls and nothing more. Adapters (core/adapters/) implement them; only
core/bootstrap.py wires adapters to services; tests/service/fakes.py implements them in
memory for the service tier.

Records that cross a port are plain values from core/domain/ (chain.py, venue.py, rows.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from core.domain.chain import Block, Guard, Log, NonceAudit, Receipt, SendOutcome, SignedTx
from core.domain.fees import Fees
from core.domain.mode import Heartbeat
from core.domain.rows import (
    Assigned,
    AwaitingOutcome,
    FollowerRow,
    InFlightIntent,
    LeaderTxRow,
    Mined,
    Newest,
    OpenWindow,
    SignalRow,
    Signed,
    SizingInput,
    SizingOutcome,
    Stalled,
    ToSend,
    ToSign,
    WatchedLeader,
)
from core.domain.signals import SignalSpec
from core.domain.states import IntentState, SignalState
from core.domain.venue import Call, LogFilter

# The venue's port and a reference-price source live in core/ports/venue.py.
from core.ports.notify import NotificationStore as NotificationStore
from core.ports.notify import NotifySender as NotifySender
from core.ports.venue import OrderRoute as OrderRoute
from core.ports.venue import PriceSource as PriceSource
from core.ports.venue import Venue as Venue

# -- keys and the outside world ---------------------------------------------------------------


class Signer(Protocol):
    """A follower's or deployer's key: a keystore / env key in memory, or a KMS key."""

    address: str

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTx: ...


class SignerSource(Protocol):
    """A signer reference (`env:…`, `keystore:…`, `kms:…`) -> its signer, cached per process.
    Raises SignerError (never usable) or TransientError (its service is down: later)."""

    def __call__(self, ref: str, /) -> Signer: ...


class Dispatcher(Protocol):
    def dispatch(self, signal_pk: int, start: str = "validate", countdown: float = 0) -> bool:
        """Enqueue the signal's chain from `start`; False when the broker refused it
        (the signal row is committed, so the reconciler dispatches it later)."""
        ...


# -- the node ---------------------------------------------------------------------------------


class Broadcaster(Protocol):
    """Raw transactions onto the wire; `guard` runs before every chunk (the window's)."""

    def send_raw(self, raws: Sequence[bytes], guard: Guard | None = None) -> list[SendOutcome]: ...
    def broadcast(
        self, raws: Sequence[bytes], guard: Guard | None = None
    ) -> tuple[list[SendOutcome], int]:
        """`send_raw`, and the head's number read in the last batch."""
        ...


class PipelineChain(Broadcaster, Protocol):
    """What the per-signal pipeline reads and sends."""

    def call(
        self,
        to: str,
        data: bytes,
        sender: str | None = None,
        value: int = 0,
        gas_price: int | None = None,
        gas: int | None = None,
    ) -> bytes: ...
    def calls(self, calls: Sequence[Call], block: int | None = None) -> list[bytes]: ...
    def block_number(self) -> int: ...
    def fees_and_balances(
        self, addresses: Sequence[str], blocks: int = 5, percentile: int = 50
    ) -> tuple[int, list[int], dict[str, int]]: ...
    def nonces(self, addresses: Sequence[str], block: str = "latest") -> dict[str, int]: ...
    def receipts(self, hashes: Sequence[str]) -> dict[str, Receipt]: ...
    def head_time(self) -> int:
        """The newest block's timestamp (unix seconds): the venue's clock."""
        ...


class MaintenanceChain(Broadcaster, Protocol):
    """What the stuck-transaction work reads and sends."""

    def fee_history(self, blocks: int = 5, percentile: int = 50) -> tuple[int, list[int]]: ...
    def block_number(self) -> int: ...
    def nonces(self, addresses: Sequence[str], block: str = "latest") -> dict[str, int]: ...
    def receipts(self, hashes: Sequence[str]) -> dict[str, Receipt]: ...


class WatcherChain(Broadcaster, Protocol):
    """What watching by block reads (and re-broadcasts)."""

    def block_number(self) -> int: ...
    def receipts(self, hashes: Sequence[str]) -> dict[str, Receipt]: ...
    def known(self, hashes: Sequence[str]) -> set[str]: ...
    def revert_reason(
        self,
        sender: str,
        to: str,
        data: bytes,
        block: int,
        value: int = 0,
        describe: Callable[[bytes], str | None] | None = None,
    ) -> str: ...
    # A two-phase venue's outcomes: request receipts' logs, and the venue's events.
    def receipt_logs(self, hashes: Sequence[str]) -> dict[str, tuple[int, list[Log]]]: ...
    def logs(self, filters: Sequence[LogFilter], from_block: int, to_block: int) -> list[Log]: ...
    # ... and when a request no keeper handled may be cancelled (block time, not wall time)
    def call(self, to: str, data: bytes, sender: str | None = None, value: int = 0) -> bytes: ...
    def block_times(self, numbers: Sequence[int]) -> dict[int, int]: ...


class LeaderChain(Protocol):
    """What the leader watcher reads."""

    def block_number(self) -> int: ...
    def blocks(self, numbers: Sequence[int]) -> list[Block | None]: ...
    def block_hashes(self, numbers: Sequence[int]) -> dict[int, str]: ...
    def receipt_logs(self, hashes: Sequence[str]) -> dict[str, tuple[int, list[Log]]]: ...
    def logs(self, filters: Sequence[LogFilter], from_block: int, to_block: int) -> list[Log]: ...


class ChainReads(Protocol):
    """Read-only questions of the read models (status, verify, drift)."""

    def call(self, to: str, data: bytes, sender: str | None = None, value: int = 0) -> bytes: ...
    def nonce(self, address: str, block: str = "latest") -> int: ...
    def nonces(self, addresses: Sequence[str], block: str = "latest") -> dict[str, int]: ...
    def balances(self, addresses: Sequence[str]) -> dict[str, int]: ...
    def rpc(self, method: str, *params: Any) -> Any: ...
    def logs(self, filters: Sequence[LogFilter], from_block: int, to_block: int) -> list[Log]: ...
    def block_number(self) -> int: ...


class NonceAuditor(Protocol):
    """Who took `nonce` of `address`, decided from one endpoint at one pinned block."""

    def __call__(self, address: str, nonce: int, ours: Collection[str], /) -> NonceAudit: ...


# -- the system of record ---------------------------------------------------------------------


class SignalStore(Protocol):
    """Signals and their sizing (the pipeline's first steps, the watcher's finish)."""

    def expand(self, pk: int, max_age_s: int) -> tuple[SignalState, str]: ...
    def signal(self, pk: int) -> SignalRow: ...
    def reject_pending(self, pk: int, reason: str) -> int: ...
    def size_pending(
        self,
        pk: int,
        sizer: Callable[[SizingInput], SizingOutcome],
        leader_id: int,
        asset: str,
        by_position: bool = False,
    ) -> tuple[int, int]:
        """(sized, gated). `by_position`: a close or a decrease in proportion, sized from
        the venue's position (a following sharing it moves only its share)."""
        ...

    def equity_accounts(self, pk: int) -> list[tuple[str, str]]:
        """(account, leader address) of the signal's pending intents' followers sized by
        equity-ratio: whose equities to read before sizing."""
        ...

    def finish_signals(self) -> int: ...
    def next_waiting(self, pk: int) -> int | None: ...
    def give_up(self, pk: int, reason: str) -> int: ...


class IntakeStore(Protocol):
    def insert_signal(
        self, spec: SignalSpec, leader_id: int, source: str, follower_id: int | None = None
    ) -> tuple[str, int]: ...


class LeaderLookup(Protocol):
    def leader_id(self, address: str) -> int | None: ...


class IntentStore(Protocol):
    """Intents after sizing: checked, dry-run, failed, sent."""

    def created_and_age(self, pk: int) -> tuple[list[ToSign], float, str]: ...
    def unmined(self, signers: Sequence[str]) -> dict[str, int]:
        """How many orders of each signer are signed, sent or held and not yet mined (on a
        GMX subaccount each uses one of the wallet's actions once mined)."""
        ...

    def fail(
        self,
        failures: dict[int, str],
        from_state: IntentState = IntentState.CREATED,
        to: IntentState = IntentState.FAILED,
    ) -> None: ...
    def record_dry_run(self, results: dict[int, tuple[bytes, str | None]]) -> int: ...
    def signed_and_age(self, pk: int) -> tuple[list[ToSend], float, str]: ...
    def mark_sent(
        self,
        sent: list[ToSend],
        errors: dict[int, str],
        at: Mapping[int, datetime],
        sent_by: str = "",
        block: int = 0,
        signal_pk: int | None = None,
    ) -> tuple[int, float]: ...


class NonceAllocator(Protocol):
    """Signer rows and the locked take-a-nonce-and-sign of the created intents."""

    def missing_signers(self, addresses: Iterable[str]) -> list[str]: ...
    def init_signers(self, first_nonces: dict[str, int], chain_id: int) -> None: ...
    def sign_created(
        self,
        pk: int,
        sign: Callable[[ToSign, int], Signed],
        checked: Collection[int],
        skip: AbstractSet[int] = frozenset(),
        max_age_s: float | None = None,
    ) -> tuple[int, int]: ...


class WalletTxs(Protocol):
    """A follower's wallet transaction outside any order, at the signer's next nonce."""

    def spend_nonce(
        self,
        address: str,
        chain_id: int,
        chain_nonce: Callable[[], int],
        send: Callable[[int], str],
        audit: tuple[str, str, str | None, dict[str, Any]],
    ) -> str: ...


class InFlightStore(Protocol):
    """What watching moves: mined, confirmed, reverted, cancelled, reorged."""

    def in_flight(self) -> list[InFlightIntent]: ...
    def mark_mined(self, rows: Sequence[Mined]) -> set[int]: ...
    def confirm(self, rows: Sequence[Mined]) -> list[tuple[int, datetime | None]]: ...
    def transition(
        self, intent_id: int, current: IntentState, new: IntentState, **values: Any
    ) -> bool: ...
    def mark_mined_attempt(self, hashes: Sequence[str], winner: str) -> None: ...


class OutcomeStore(Protocol):
    """What a two-phase venue's outcomes move: mined -> executed -> confirmed, frozen,
    venue_cancelled; executed -> mined when the fill left the chain."""

    def awaiting_outcome(self) -> list[AwaitingOutcome]: ...
    def set_order_key(self, intent_id: int, key: str) -> None: ...
    def ask_cancel(self, intent_id: int, order_key: str) -> int | None:
        """Create copytrade's cancel of the mined request `intent_id` (leg 1 of its signal
        and follower, `created`); the signal's pk when this call created it, None when
        it exists already or the request is no longer mined."""
        ...

    def transition(
        self, intent_id: int, current: IntentState, new: IntentState, **values: Any
    ) -> bool: ...


class AttemptStore(Protocol):
    """Attempts after the first: claimed by compare-and-set, written ahead, broadcast."""

    def newest(
        self, states: tuple[IntentState, ...], intent_id: int | None = None
    ) -> list[Newest]: ...
    def claim(
        self,
        n: Newest,
        kind: str,
        tx_hash: str,
        raw: bytes,
        fees: Fees,
        gas: int,
        new_state: IntentState | None = None,
        reason: str | None = None,
    ) -> int | None: ...
    def claim_state(self, n: Newest, new_state: IntentState) -> bool: ...
    def mark_broadcast(self, attempt_id: int, block: int, who: str, at: datetime) -> None: ...
    def record_error(self, attempt_id: int, message: str) -> None: ...
    def hashes_of(self, intent_ids: Sequence[int]) -> dict[int, list[str]]: ...
    def raws(self, hashes: list[str]) -> dict[str, bytes]: ...
    def set_block(
        self, intent_id: int, state: IntentState, block: int | None, block_hash: str | None
    ) -> None: ...


class ResignStore(AttemptStore, Protocol):
    """Nonce sync: the suspects of an outside spend, and the re-sign at the next nonce."""

    def resign(
        self, n: Newest, sign: Callable[[int], tuple[str, bytes]], fees: Fees, outside_nonce: int
    ) -> tuple[int, int] | None: ...
    def sent_after_resign(
        self, intent_id: int, attempt_id: int, block: int, who: str, at: datetime
    ) -> None: ...
    def suspect(self, intent_id: int) -> tuple[str, str] | None: ...
    def suspect_seen(self, intent_id: int, tx_hash: str, block: int, block_hash: str) -> None: ...
    def forget_suspect(self, intent_id: int) -> None: ...


class Controls(Protocol):
    """Operator controls: requested mode, the stop, the broadcast window, notes."""

    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, actor: str, reason: str | None) -> None: ...
    def snapshot(self) -> tuple[str | None, bool]: ...
    def snapshot_at(self) -> tuple[str | None, bool, datetime]: ...
    def broadcast_window(self, bound_s: float) -> AbstractContextManager[tuple[bool, datetime]]: ...
    def wait_for_windows(
        self, on_wait: Callable[[list[OpenWindow]], None] | None = None, every_s: float = 1.0
    ) -> None: ...
    def note(self, key: str, value: str) -> None: ...
    def noted(self, key: str) -> tuple[str, float] | None: ...
    def get_or_record(self, key: str, value: str) -> str: ...


class Heartbeats(Protocol):
    def read(self) -> Heartbeat | None: ...


class Beater(Protocol):
    def beat(self) -> Heartbeat | None: ...


class LeaderStore(Protocol):
    """The leader watcher's cursors, blocks and outbox."""

    def leaders(self) -> list[WatchedLeader]: ...
    def round_lock(self) -> AbstractContextManager[bool]: ...
    def start_new_leaders(self, head: int) -> None: ...
    def stored(self, above: int = -1) -> dict[int, str]: ...
    def rewind(self, ancestor: int) -> int: ...
    def orphans(self) -> list[tuple[int, str, int | None]]: ...
    def revoke(self, row_id: int, signal_pk: int | None, reason: str) -> bool: ...
    def record_block(
        self,
        number: int,
        block_hash: str,
        parent_hash: str,
        cursors: dict[int, int | None],
        rows: list[LeaderTxRow],
    ) -> None: ...
    def outbox(self) -> list[tuple[int, dict[str, Any]]]: ...
    def submitted(self, row_id: int, signal_pk: int | None, ignored_reason: str | None) -> None: ...


class ReconcileStore(Protocol):
    def claim_round(self, after_s: float, max_tries: int, count_tries: bool) -> Stalled: ...


class StatusReads(Protocol):
    """Counts for `status` and the health exporter."""

    def intents_by_state(self, since_s: float | None = None) -> dict[str, int]: ...
    def signed_past_age(self, max_age_s: int) -> int: ...
    def queue_heads(self) -> list[dict[str, Any]]: ...
    def stuck(self, older_than_s: float) -> int: ...


class AuditReads(Protocol):
    """What `verify` compares with the chain."""

    def signers(self) -> dict[str, int]: ...
    def assigned(self) -> list[Assigned]: ...
    def used_outside(self) -> set[tuple[str, int]]: ...
    def keys(self) -> dict[str, tuple[int, str]]: ...
    def overdue_signals(self, max_age_s: float) -> list[tuple[str, str]]: ...


class Followers(Protocol):
    def list_followers(self, leader_id: int | None = None) -> list[FollowerRow]: ...
