"""JSON-RPC access on web3.py's HTTP provider (one keep-alive session per process).

Raw responses are read here and node error strings are mapped to outcomes, so nothing
above this module sees a web3 or requests exception.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from web3 import HTTPProvider

from core.domain.errors import ChainError, TransientError, WrongChain

# Node replies meaning "this exact transaction is already in the pool": success for us.
ALREADY_KNOWN = ("already known", "transaction already imported", "known transaction")
NONCE_TOO_LOW = ("nonce too low", "nonce is too low", "oldnonce")
UNDERPRICED = ("replacement transaction underpriced", "underpriced", "fee too low")
INSUFFICIENT = ("insufficient funds",)


@dataclass(frozen=True)
class SendOutcome:
    """`kind`: ok | known | nonce_too_low | underpriced | insufficient_funds | error."""

    kind: str
    tx_hash: str | None = None
    message: str = ""

    @property
    def accepted(self) -> bool:
        return self.kind in ("ok", "known")


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    block_number: int
    block_hash: str
    status: int


def classify_send_error(message: str) -> str:
    text = message.lower()
    for kind, needles in (
        ("known", ALREADY_KNOWN),
        ("nonce_too_low", NONCE_TOO_LOW),
        ("underpriced", UNDERPRICED),
        ("insufficient_funds", INSUFFICIENT),
    ):
        if any(n in text for n in needles):
            return kind
    return "error"


IdentityCheck = Callable[[int, str], None]
_TRANSPORT = (requests.RequestException, OSError, ValueError)


@dataclass
class _Endpoint:
    url: str
    provider: HTTPProvider
    verified_at: float = -1.0  # when its chain identity was last checked (-1: never)
    down_until: float = 0.0


class Chain:
    """A thin RPC wrapper over one or more endpoints (the first preferred). Methods return
    plain ints, bytes and dataclasses.

    Failover: a transport failure (refused, timeout, cut, malformed reply) marks the
    endpoint down for `retry_primary_after_s` and the call goes to the next one; an earlier
    endpoint is tried again once its time is up ("and back"). Before an endpoint is used,
    and again every `reverify_s` or after any failure, its chain id and genesis hash are
    passed to `identity_check`, which raises WrongChain when they differ from the ones
    recorded at first start: such a node is never used (a fresh anvil, a wrong network).
    """

    def __init__(
        self,
        rpc_url: str | Sequence[str],
        timeout_s: float = 10.0,
        identity_check: IdentityCheck | None = None,
        retry_primary_after_s: float = 30.0,
        reverify_s: float = 60.0,
    ) -> None:
        urls = [rpc_url] if isinstance(rpc_url, str) else [u for u in rpc_url if u]
        self.endpoints = [
            _Endpoint(
                u,
                HTTPProvider(
                    u, request_kwargs={"timeout": timeout_s}, exception_retry_configuration=None
                ),
            )
            for u in urls
        ]
        self.identity_check = identity_check
        self.retry_after = retry_primary_after_s
        self.reverify_s = reverify_s
        self.current_url = urls[0]
        self._lock = threading.Lock()

    @property
    def rpc_url(self) -> str:
        return self.current_url

    # -- transport ---------------------------------------------------------------------
    def _ordered(self) -> list[_Endpoint]:
        now = time.monotonic()
        up = [e for e in self.endpoints if e.down_until <= now]
        down = sorted((e for e in self.endpoints if e.down_until > now), key=lambda e: e.down_until)
        return up + down

    def _use(self, fn: Callable[[HTTPProvider], Any], what: str) -> Any:
        wrong: WrongChain | None = None
        failed = ""
        for ep in self._ordered():
            try:
                self._verify(ep)
                result = fn(ep.provider)
            except WrongChain as exc:
                ep.down_until, ep.verified_at, wrong = time.monotonic() + self.retry_after, -1, exc
                continue
            except _TRANSPORT as exc:
                ep.down_until, ep.verified_at = time.monotonic() + self.retry_after, -1
                failed = f"{ep.url}: {type(exc).__name__}"
                continue
            self.current_url = ep.url
            return result
        if wrong is not None and not failed:
            raise wrong
        raise TransientError(f"RPC {what}: no endpoint answered (last {failed or wrong})")

    def _verify(self, ep: _Endpoint) -> None:
        if self.identity_check is None:
            return
        if ep.verified_at >= 0 and time.monotonic() - ep.verified_at < self.reverify_s:
            return
        cid = ep.provider.make_request("eth_chainId", [])
        genesis = ep.provider.make_request("eth_getBlockByNumber", ["0x0", False])
        if "result" not in cid or not genesis.get("result"):
            raise ValueError("malformed identity reply")
        self.identity_check(int(cid["result"], 16), str(genesis["result"]["hash"]))
        ep.verified_at = time.monotonic()

    def _request(self, method: str, params: Sequence[Any]) -> Any:
        response = self._use(lambda p: p.make_request(method, list(params)), method)
        if not isinstance(response, dict) or ("result" not in response and "error" not in response):
            raise TransientError(f"RPC {method}: malformed reply")
        if "error" in response:
            raise ChainError(f"{method}: {response['error'].get('message', response['error'])}")
        return response["result"]

    def _batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
        if not calls:
            return []

        def run(p: HTTPProvider) -> list[dict[str, Any]]:
            replies = p.make_batch_request([(m, list(a)) for m, a in calls])  # type: ignore[misc]
            if not isinstance(replies, list) or len(replies) != len(calls):
                raise ValueError("malformed batch reply")
            return [dict(r) for r in replies]

        result: list[dict[str, Any]] = self._use(run, "batch")
        return result

    # -- reads -------------------------------------------------------------------------
    def chain_id(self) -> int:
        return int(self._request("eth_chainId", []), 16)

    def block_number(self) -> int:
        return int(self._request("eth_blockNumber", []), 16)

    def nonce(self, address: str, block: str = "latest") -> int:
        return int(self._request("eth_getTransactionCount", [address, block]), 16)

    def balance(self, address: str) -> int:
        return int(self._request("eth_getBalance", [address, "latest"]), 16)

    def fee_history(self, blocks: int = 5, percentile: int = 50) -> tuple[int, list[int]]:
        """(next block's base fee, the blocks' rewards at `percentile`)."""
        h = self._request("eth_feeHistory", [hex(blocks), "latest", [percentile]])
        next_base = int(h["baseFeePerGas"][-1], 16)
        rewards = [int(r[0], 16) for r in h.get("reward") or [] if r]
        return next_base, rewards

    def call(self, to: str, data: bytes, sender: str | None = None) -> bytes:
        tx: dict[str, str] = {"to": to, "data": "0x" + data.hex()}
        if sender:
            tx["from"] = sender
        return bytes.fromhex(self._request("eth_call", [tx, "latest"])[2:])

    def receipts(self, hashes: Sequence[str]) -> dict[str, Receipt]:
        """Receipts of the mined ones among `hashes` (canonical chain, as the node sees it)."""
        found: dict[str, Receipt] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            replies = self._batch([("eth_getTransactionReceipt", [h]) for h in chunk])
            for h, reply in zip(chunk, replies, strict=True):
                r = reply.get("result")
                if "error" in reply:
                    raise TransientError(f"receipt {h}: {reply['error']}")
                if r and r.get("blockHash"):
                    found[h] = Receipt(
                        h, int(r["blockNumber"], 16), r["blockHash"], int(r["status"], 16)
                    )
        return found

    def known(self, hashes: Sequence[str]) -> set[str]:
        """The hashes the node knows (pending or mined); a dropped or reorged-out
        transaction is unknown."""
        out: set[str] = set()
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            replies = self._batch([("eth_getTransactionByHash", [h]) for h in chunk])
            for h, reply in zip(chunk, replies, strict=True):
                if "error" in reply:
                    raise TransientError(f"transaction {h}: {reply['error']}")
                if reply.get("result"):
                    out.add(h)
        return out

    def revert_reason(self, sender: str, to: str, data: bytes, block: int) -> str:
        """Replay a reverted call at the block before it to read the revert reason."""
        tx = {"from": sender, "to": to, "data": "0x" + data.hex()}
        try:
            response = self._use(
                lambda p: p.make_request("eth_call", [tx, hex(max(0, block - 1))]),
                "eth_call",
            )
        except TransientError:
            return "unknown"
        err = response.get("error")
        if not err:
            return "unknown"
        payload = err.get("data") or ""
        if isinstance(payload, str) and payload.startswith("0x08c379a0"):
            from eth_abi import decode

            return str(decode(["string"], bytes.fromhex(payload[10:]))[0])
        return str(err.get("message", "unknown"))[:200]

    # -- writes ------------------------------------------------------------------------
    def send_raw(self, raws: Sequence[bytes]) -> list[SendOutcome]:
        """Broadcast signed transactions in JSON-RPC batches; one outcome per input."""
        outcomes: list[SendOutcome] = []
        for start in range(0, len(raws), 200):
            chunk = raws[start : start + 200]
            replies = self._batch([("eth_sendRawTransaction", ["0x" + r.hex()]) for r in chunk])
            for reply in replies:
                if "error" in reply:
                    msg = str(reply["error"].get("message", reply["error"]))
                    outcomes.append(SendOutcome(classify_send_error(msg), None, msg))
                else:
                    outcomes.append(SendOutcome("ok", str(reply["result"])))
        return outcomes

    def rpc(self, method: str, *params: Any) -> Any:
        """Escape hatch for dev-chain methods (anvil_*, evm_*) used by tools and tests."""
        return self._request(method, params)
