"""In-memory fakes of the outside world: the node (PipelineChain + MaintenanceChain), the
signers and their source, the venue's calldata, the nonce auditor."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.adapters.venue import OnePhase
from core.domain.chain import UNUSED, Guard, Log, NonceAudit, Receipt, SendOutcome, SignedTx
from core.domain.errors import ChainError, UnsafeToSend
from core.domain.fees import GWEI
from core.domain.risk import FIXED_TERMS
from core.domain.venue import (
    Call,
    LogFilter,
    OrderCall,
    OrderEvent,
    Position,
    VenueTerms,
)

# What a node says for each refusal (core/adapters/chain.py maps these back to the kinds).
MESSAGES = {
    "ok": "",
    "known": "already known",
    "nonce_too_low": "nonce too low",
    "underpriced": "replacement transaction underpriced",
    "insufficient_funds": "insufficient funds for gas * price + value",
    "error": "internal error",
}


def tx_hash_of(raw: bytes) -> str:
    """The deterministic hash of a fake raw transaction (the signer and the chain agree)."""
    return "0x" + hashlib.sha256(raw).hexdigest()


def decode_raw(raw: bytes) -> dict[str, Any]:
    """The transaction fields a FakeSigner put into `raw` (bytes fields come back as hex)."""
    assert raw.startswith(b"raw|"), raw
    decoded: dict[str, Any] = json.loads(raw[4:])
    return decoded


# -- signers ------------------------------------------------------------------------------------


@dataclass
class FakeSigner:
    """A key: signs deterministically (same tx -> same raw and hash); records every tx.
    `fail_with`: raised by sign_transaction (e.g. TransientError: a throttled KMS), the
    next `fails` times (None: always)."""

    address: str
    fail_with: Exception | None = None
    fails: int | None = None
    signed: list[dict[str, Any]] = field(default_factory=list)

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTx:
        if self.fail_with is not None and self.fails != 0:
            if self.fails is not None:
                self.fails -= 1
            raise self.fail_with
        self.signed.append(dict(tx))
        body = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in tx.items()}
        body["from"] = self.address
        raw = b"raw|" + json.dumps(body, sort_keys=True).encode()
        return SignedTx(raw, tx_hash_of(raw))


class FakeSigners:
    """SignerSource: ref -> signer; `errors[ref]` is raised instead (SignerError: never
    usable; TransientError: its service is down)."""

    def __init__(self, signers: dict[str, FakeSigner] | None = None) -> None:
        self.signers: dict[str, FakeSigner] = dict(signers or {})
        self.errors: dict[str, Exception] = {}
        self.resolved: list[str] = []

    def __call__(self, ref: str, /) -> FakeSigner:
        self.resolved.append(ref)
        if ref in self.errors:
            raise self.errors[ref]
        return self.signers[ref]

    def all_signed(self) -> list[dict[str, Any]]:
        return [tx for s in self.signers.values() for tx in s.signed]


VENUE = "0x" + "7e" * 20

# -- the venue ----------------------------------------------------------------------------------


class FakeVenue(OnePhase):
    """Deterministic calldata: selector + the order's fields + its client order id; the
    two-phase half of the port as the simple venue's, but for a scriptable cancel and
    scriptable terms and collateral."""

    order_selector = b"\x0c\x0f\xfe\xe0"
    order_topic = "0x" + "0e" * 32
    two_phase = False
    closes_by_size = False
    value = 0  # the wei every order carries (a GMX-like execution fee when set)

    def __init__(self) -> None:
        self.encoded: list[OrderCall] = []
        self.terms = FIXED_TERMS  # what decode_terms answers (a GMX-like venue's when set)
        self.terms_read = False  # True: the terms come from an eth_call (counted)
        self.terms_reads = 0
        self.takes_collateral = False  # True: a GMX-like venue (USDC balance, allowance)

    def encode_order(self, o: OrderCall) -> bytes:
        self.encoded.append(o)
        fields = f"{o.action.value}|{o.asset}|{int(o.is_long)}|{o.collateral_usd_1e6}|"
        fields += f"{o.leverage_x}|{o.acceptable_price_usd_1e6}|"
        return self.order_selector + fields.encode() + o.client_order_id

    def decode_order(self, data: bytes) -> OrderCall | None:
        from core.domain.types import Action

        if not data.startswith(self.order_selector):
            return None
        *parts, coid = data[4:].split(b"|", 6)
        action, asset, long_, collateral, leverage, price = (p.decode() for p in parts)
        return OrderCall(
            Action(action), asset, long_ == "1", int(collateral), int(leverage), int(price), coid
        )

    def order_value(self, calldata: bytes) -> int:
        return self.value if calldata.startswith(self.order_selector) else 0

    def order_to(self, calldata: bytes) -> str:
        return VENUE

    def price_call(self, asset: str) -> Call | None:
        return Call(VENUE, b"price:" + asset.encode())

    def decode_price(self, result: bytes) -> int:
        return int.from_bytes(result, "big")

    def position_call(self, trader: str, asset: str) -> Call:
        return Call(VENUE, f"position:{trader}:{asset}".encode())

    def decode_position(self, asset: str, result: bytes, is_long: bool | None = None) -> Position:
        return Position(False, 0, 0) if not result else Position(*json.loads(result))

    def decode_order_event(self, topics: list[str], data: bytes) -> OrderEvent | None:
        return None

    def orders_filter(self) -> LogFilter:
        return LogFilter(VENUE, [self.order_topic])

    def order_placed(self, log: Log) -> tuple[str, str] | None:
        return None

    def cancel_request(self, key: str, by_subaccount: bool = False) -> bytes:
        """A two-phase venue's cancel of a request (decision 0021)."""
        return b"cancelOrder:" + key.encode()

    def terms_calls(self) -> list[Call]:
        return [Call(VENUE, b"terms")] if self.terms_read else []

    def decode_terms(self, results: Sequence[bytes]) -> VenueTerms:
        self.terms_reads += 1
        return self.terms

    def collateral_calls(self, account: str) -> list[Call]:
        return [Call(VENUE, f"collateral:{account}".encode())] if self.takes_collateral else []

    def approve_call(self, amount_usd_1e6: int) -> Call | None:
        return Call(VENUE, f"approve:{amount_usd_1e6}".encode()) if self.takes_collateral else None

    def decode_collateral(self, results: Sequence[bytes]) -> tuple[int, int]:
        """The chain's scripted answer: JSON [balance, allowance] (none: nothing held)."""
        (result,) = results
        balance, allowed = json.loads(result) if result else (0, 0)
        return int(balance), int(allowed)


# -- the node -----------------------------------------------------------------------------------


class FakeChain:
    """Scripted fee history, balances, nonces, receipts and send outcomes. Every raw asked
    to go on the wire lands in `sent` (only after the guard said go), every guard call is
    counted (with what it returned), every eth_call recorded. `kinds[raw]` (default
    `default_kind`) is the node's answer to that raw. Hooks: `before_guard` runs before each
    chunk's guard (a slow identity round trip), `before_send` right before a chunk goes out
    (after its guard said go)."""

    def __init__(self, base_fee: int = 10 * GWEI, rewards: Sequence[int] = (2 * GWEI,)) -> None:
        self.base_fee = base_fee
        self.rewards = list(rewards)
        self.block = 100
        self.balances: dict[str, int] = {}
        self.chain_nonces: dict[str, int] = {}
        self.receipts_by_hash: dict[str, Receipt] = {}
        self.kinds: dict[bytes, str] = {}
        self.default_kind = "ok"
        self.chunk = 200
        self.call_error: str | None = None
        self.before_guard: Callable[[], None] | None = None
        self.before_send: Callable[[], None] | None = None
        self.sent: list[bytes] = []
        self.guard_calls = 0
        self.guard_refusals = 0
        self.guard_times: list[datetime] = []
        self.eth_calls: list[tuple[str, bytes, str | None]] = []
        self.gas_prices: list[int | None] = []  # each eth_call's gasPrice
        self.call_values: list[int] = []
        self.call_results: dict[bytes, bytes] = {}  # calldata -> what eth_call answers
        self.nonce_reads: list[tuple[tuple[str, ...], str]] = []

    # -- Broadcaster / PipelineChain -----------------------------------------------------------
    def send_raw(self, raws: Sequence[bytes], guard: Guard | None = None) -> list[SendOutcome]:
        outcomes: list[SendOutcome] = []
        for start in range(0, len(raws), self.chunk):
            at = None
            if guard is not None:
                if self.before_guard is not None:
                    self.before_guard()
                self.guard_calls += 1
                try:
                    at = guard()
                    self.guard_times.append(at)
                except UnsafeToSend as exc:
                    self.guard_refusals += 1
                    if not outcomes:
                        raise  # nothing went out
                    outcomes += [SendOutcome("unsent", None, str(exc)) for _ in raws[start:]]
                    break
            if self.before_send is not None:
                self.before_send()
            for raw in raws[start : start + self.chunk]:
                self.sent.append(raw)
                kind = self.kinds.get(raw, self.default_kind)
                tx_hash = tx_hash_of(raw) if kind == "ok" else None
                outcomes.append(SendOutcome(kind, tx_hash, MESSAGES[kind], at))
        return outcomes

    def broadcast(
        self, raws: Sequence[bytes], guard: Guard | None = None
    ) -> tuple[list[SendOutcome], int]:
        return self.send_raw(raws, guard), self.block

    def call(
        self,
        to: str,
        data: bytes,
        sender: str | None = None,
        value: int = 0,
        gas_price: int | None = None,
        gas: int | None = None,
    ) -> bytes:
        self.eth_calls.append((to, data, sender))
        self.call_values.append(value)
        self.gas_prices.append(gas_price)
        if self.call_error is not None:
            raise ChainError(f"eth_call: {self.call_error}")
        return self.call_results.get(data, b"")

    def calls(self, calls: Sequence[Call], block: int | None = None) -> list[bytes]:
        return [self.call(c.to, c.data) for c in calls]

    def fees_and_balances(
        self, addresses: Sequence[str], blocks: int = 5, percentile: int = 50
    ) -> tuple[int, list[int], dict[str, int]]:
        return self.base_fee, list(self.rewards), {a: self.balances.get(a, 0) for a in addresses}

    def nonces(self, addresses: Sequence[str], block: str = "latest") -> dict[str, int]:
        self.nonce_reads.append((tuple(addresses), block))
        return {a: self.chain_nonces.get(a, 0) for a in addresses}

    def receipts(self, hashes: Sequence[str]) -> dict[str, Receipt]:
        return {h: self.receipts_by_hash[h] for h in hashes if h in self.receipts_by_hash}

    # -- MaintenanceChain ----------------------------------------------------------------------
    def fee_history(self, blocks: int = 5, percentile: int = 50) -> tuple[int, list[int]]:
        return self.base_fee, list(self.rewards)

    def block_number(self) -> int:
        return self.block


class FakeNonceAuditor:
    """NonceAuditor: `audits[(address, nonce)]`, else unused at the head; records calls."""

    def __init__(self) -> None:
        self.audits: dict[tuple[str, int], NonceAudit] = {}
        self.calls: list[tuple[str, int, tuple[str, ...]]] = []

    def __call__(self, address: str, nonce: int, ours: Collection[str], /) -> NonceAudit:
        self.calls.append((address, nonce, tuple(ours)))
        return self.audits.get((address, nonce), NonceAudit(UNUSED, 100, "0xhead"))
