"""JSON-RPC access on web3.py's HTTP provider (one keep-alive session per process).

Raw responses are read here and node error strings are mapped to outcomes, so nothing
above this module sees a web3 or requests exception.

Every call — reads, batches, the pinned-endpoint audit, broadcasts — goes through the same
endpoint failover and the chain-identity check in the same batch, and those two must not
exist twice; the block and log reads (core/adapters/chain_blocks.py) use them from here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from eth_abi import decode
from web3 import HTTPProvider

from core.adapters.chain_blocks import BlockReads
from core.adapters.chain_fees import fee_calls, fee_data
from core.adapters.node_errors import classify_send_error
from core.adapters.rpc_limits import RateLimited, limited_batch
from core.adapters.send_check import settle
from core.domain.chain import Guard, Receipt, SendOutcome
from core.domain.errors import ChainError, TransientError, UnsafeToSend, WrongChain
from core.domain.venue import Call

IdentityCheck = Callable[[int, str], None]
# One JSON-RPC batch on the endpoint `on_one_endpoint` pinned: replies in call order.
Batch = Callable[[Sequence[tuple[str, Sequence[Any]]]], list[dict[str, Any]]]
_TRANSPORT = (requests.RequestException, OSError, ValueError)


@dataclass
class _Endpoint:
    url: str
    provider: HTTPProvider
    down_until: float = 0.0

    @property
    def shown(self) -> str:
        """The URL for messages and logs: a hosted provider's key (in the path or query)
        and any user info masked."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        rest = "/***" if parts.path.strip("/") or parts.query else ""
        return f"{parts.scheme}://{host}{port}{rest}"


# Asked in the same HTTP batch as every call, so each answer is known to come from a node
# on the recorded chain (one round trip, no window between the check and the call).
_IDENTITY = [("eth_chainId", []), ("eth_getBlockByNumber", ["0x0", False])]


def _session(url: str) -> requests.Session:
    """A keep-alive session that reads the environment's proxy settings once, here, instead
    of on every request (requests' trust_env costs ~70 µs a call)."""
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(url))
    return session


def _outcome(reply: dict[str, Any], at: datetime | None = None) -> SendOutcome:
    if "error" in reply:
        msg = str(reply["error"].get("message", reply["error"]))
        return SendOutcome(classify_send_error(msg), None, msg, at)
    return SendOutcome("ok", str(reply["result"]), "", at)


def _ints(method: str, keys: Sequence[str], replies: list[dict[str, Any]]) -> dict[str, int]:
    """One hex quantity per key, or TransientError naming the first that failed."""
    out: dict[str, int] = {}
    for k, reply in zip(keys, replies, strict=True):
        if "error" in reply:
            raise TransientError(f"{method} {k}: {reply['error']}")
        out[k] = int(reply["result"], 16)
    return out


class Chain(BlockReads):
    """A thin RPC wrapper over one or more endpoints (the first preferred). Methods return
    plain ints, bytes and dataclasses.

    Failover: a transport failure (refused, timeout, cut, malformed reply) marks the
    endpoint down for `retry_primary_after_s` and the call goes to the next one; an earlier
    endpoint is tried again once its time is up ("and back").

    Chain identity: every call is sent in one JSON-RPC batch with `eth_chainId` and the
    genesis block, which go to `identity_check` (it raises WrongChain when they differ from
    the ones recorded at first start) before any answer is used. A broadcast is preceded by
    that check in its own round trip, so a node restarted fresh behind the same URL is
    never sent to. A node on the wrong chain is never used; nothing else is touched.
    """

    def __init__(
        self,
        rpc_url: str | Sequence[str],
        timeout_s: float = 10.0,
        identity_check: IdentityCheck | None = None,
        retry_primary_after_s: float = 30.0,
        chunk: int = 200,
        batch_max: int = 500,
    ) -> None:
        self.chunk = chunk
        # Calls per JSON-RPC batch (COPYTRADE_RPC_BATCH_MAX); halved, down to single calls,
        # when a provider refuses a batch as too large (core/adapters/rpc_limits.py).
        self.batch_max = batch_max
        urls = [rpc_url] if isinstance(rpc_url, str) else [u for u in rpc_url if u]
        self.endpoints = [
            _Endpoint(
                u,
                HTTPProvider(
                    u,
                    request_kwargs={"timeout": timeout_s},
                    exception_retry_configuration=None,
                    session=_session(u),
                ),
            )
            for u in urls
        ]
        self.identity_check = identity_check
        self.retry_after = retry_primary_after_s
        self.current_url = urls[0]

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
                result = fn(ep.provider)
            except WrongChain as exc:
                ep.down_until, wrong = time.monotonic() + self.retry_after, exc
                continue
            except RateLimited as exc:
                # Back off as long as it asks (Retry-After), then it is tried again; what
                # was being done is retried by its task with the same bytes, never re-signed.
                ep.down_until = time.monotonic() + exc.retry_after_s
                failed = f"{ep.shown}: rate limited for {exc.retry_after_s:g} s ({exc})"
                continue
            except _TRANSPORT as exc:
                ep.down_until = time.monotonic() + self.retry_after
                failed = f"{ep.shown}: {type(exc).__name__}"
                continue
            self.current_url = ep.url
            return result
        if wrong is not None and not failed:
            raise wrong
        raise TransientError(f"RPC {what}: no endpoint answered (last {failed or wrong})")

    def _check(self, replies: Sequence[Any]) -> None:
        cid, genesis = (r if isinstance(r, dict) else {} for r in replies)
        if "result" not in cid or not genesis.get("result"):
            raise ValueError("malformed identity reply")
        assert self.identity_check is not None
        self.identity_check(int(cid["result"], 16), str(genesis["result"]["hash"]))

    def _batch(
        self,
        calls: Sequence[tuple[str, Sequence[Any]]],
        broadcast: bool = False,
        guard: Guard | None = None,
    ) -> list[dict[str, Any]]:
        """Replies to `calls`, in order, from one endpoint (identity checked with them).
        With `guard`, it is called right before the calls go to each endpoint tried (after
        that endpoint's identity check) and may refuse."""
        if not calls:
            return []

        def run(batch: Batch, p: HTTPProvider) -> list[dict[str, Any]]:
            if self.identity_check is not None and broadcast:
                self._check(p.make_batch_request(_IDENTITY))  # type: ignore[arg-type]
            if guard is not None:
                guard()
            return batch(calls)

        return list(self.on_one_endpoint(run, calls[0][0] if len(calls) == 1 else "batch"))

    def on_one_endpoint(self, fn: Callable[[Batch, HTTPProvider], Any], what: str) -> Any:
        """Run `fn` with a batch function bound to one endpoint: every round trip it makes
        goes to the same node (identity checked in each), so the answers are one node's
        view. A transport failure anywhere in it moves the whole of `fn` to the next
        endpoint."""
        head = _IDENTITY if self.identity_check is not None else []

        def run(p: HTTPProvider) -> Any:
            def batch(calls: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
                return limited_batch(self, p, head, calls, self._check)

            return fn(batch, p)

        return self._use(run, what)

    def _request(self, method: str, params: Sequence[Any]) -> Any:
        (response,) = self._batch([(method, params)])
        if "result" not in response and "error" not in response:
            raise TransientError(f"RPC {method}: malformed reply")
        if "error" in response:
            raise ChainError(f"{method}: {response['error'].get('message', response['error'])}")
        return response["result"]

    # -- reads -------------------------------------------------------------------------
    def chain_id(self) -> int:
        return int(self._request("eth_chainId", []), 16)

    def block_number(self) -> int:
        return int(self._request("eth_blockNumber", []), 16)

    def nonce(self, address: str, block: str = "latest") -> int:
        return int(self._request("eth_getTransactionCount", [address, block]), 16)

    def balance(self, address: str) -> int:
        return int(self._request("eth_getBalance", [address, "latest"]), 16)

    def balances(self, addresses: Sequence[str]) -> dict[str, int]:
        """Wei per address, in JSON-RPC batches."""
        return self._per_address("eth_getBalance", addresses, "latest")

    def nonces(self, addresses: Sequence[str], block: str = "latest") -> dict[str, int]:
        """Transaction count per address at `block` (latest / pending), in batches."""
        return self._per_address("eth_getTransactionCount", addresses, block)

    def _per_address(self, method: str, addresses: Sequence[str], block: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for start in range(0, len(addresses), 500):
            chunk = addresses[start : start + 500]
            replies = self._batch([(method, [a, block]) for a in chunk])
            out.update(_ints(method, chunk, replies))
        return out

    def fee_history(self, blocks: int = 5, percentile: int = 50) -> tuple[int, list[int]]:
        """(next block's base fee, the blocks' rewards at `percentile`)."""
        return fee_data(self._batch(fee_calls(blocks, percentile)), self._latest_block)

    def _latest_block(self) -> dict[str, Any] | None:
        (reply,) = self._batch([("eth_getBlockByNumber", ["latest", False])])
        return reply.get("result")

    def head_time(self) -> int:
        block = self._latest_block()
        if block is None:
            raise TransientError("the node returned no latest block")
        return int(str(block["timestamp"]), 16)

    def fees_and_balances(
        self, addresses: Sequence[str], blocks: int = 5, percentile: int = 50
    ) -> tuple[int, list[int], dict[str, int]]:
        """`fee_history` and `balances` in one round trip (up to 499 addresses; more go
        in further batches)."""
        first = list(addresses[:499])
        calls = fee_calls(blocks, percentile)
        replies = self._batch([*calls, *[("eth_getBalance", [a, "latest"]) for a in first]])
        base, rewards = fee_data(replies[: len(calls)], self._latest_block)
        wei = _ints("eth_getBalance", first, replies[len(calls) :])
        wei.update(self.balances(addresses[499:]))
        return base, rewards, wei

    def call(
        self,
        to: str,
        data: bytes,
        sender: str | None = None,
        value: int = 0,
        gas_price: int | None = None,
        gas: int | None = None,
    ) -> bytes:
        """An eth_call at the head; with `gas_price` the call sees it as tx.gasprice (a
        venue validating a fee against it), and the sender must afford `gas` (give it: a
        node assumes its RPC gas cap otherwise) at that price plus the value."""
        tx: dict[str, str] = {"to": to, "data": "0x" + data.hex()}
        if sender:
            tx["from"] = sender
        if value:
            tx["value"] = hex(value)
        if gas_price is not None:
            tx["gasPrice"] = hex(gas_price)
        if gas is not None:
            tx["gas"] = hex(gas)
        return bytes.fromhex(self._request("eth_call", [tx, "latest"])[2:])

    def calls(self, calls: Sequence[Call], block: int | None = None) -> list[bytes]:
        """Read-only calls at the head (or at `block`: every read of one answer at one
        block), their results in order (batches of 500: a node may refuse a larger batch).
        A call the node reverts is a ChainError; any other error reply (a rate limit, a
        lagging node) is transient."""
        out: list[bytes] = []
        at = "latest" if block is None else hex(block)
        for start in range(0, len(calls), 500):
            chunk = calls[start : start + 500]
            replies = self._batch(
                [("eth_call", [{"to": c.to, "data": "0x" + c.data.hex()}, at]) for c in chunk]
            )
            for c, reply in zip(chunk, replies, strict=True):
                if "error" in reply:
                    why = str(reply["error"].get("message", reply["error"]))
                    if "revert" in why.lower():
                        raise ChainError(f"eth_call to {c.to}: {why}")
                    raise TransientError(f"eth_call to {c.to}: {why}")
                out.append(bytes.fromhex(str(reply.get("result", "0x"))[2:]))
        return out

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

    def revert_reason(
        self,
        sender: str,
        to: str,
        data: bytes,
        block: int,
        value: int = 0,
        describe: Callable[[bytes], str | None] | None = None,
    ) -> str:
        """Replay a reverted call (with the value it carried) at the block before it to read
        the revert reason; `describe`: the venue's reading of its custom errors."""
        tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "value": hex(value)}
        try:
            (response,) = self._batch([("eth_call", [tx, hex(max(0, block - 1))])])
        except TransientError:
            return "unknown"
        err = response.get("error")
        if not err:
            return "unknown"
        payload = err.get("data") or ""
        if isinstance(payload, str) and payload.startswith("0x08c379a0"):
            return str(decode(["string"], bytes.fromhex(payload[10:]))[0])
        if describe is not None and isinstance(payload, str) and payload.startswith("0x"):
            try:
                named = describe(bytes.fromhex(payload[2:]))
            except ValueError:
                named = None
            if named:
                return named
        return str(err.get("message", "unknown"))[:200]

    # -- writes ------------------------------------------------------------------------
    def broadcast(
        self, raws: Sequence[bytes], guard: Guard | None = None
    ) -> tuple[list[SendOutcome], int]:
        """`send_raw`, and the block number read in the last batch (no extra round trip)."""
        return self._send(raws, read_block=True, guard=guard)

    def send_raw(self, raws: Sequence[bytes], guard: Guard | None = None) -> list[SendOutcome]:
        """Broadcast signed transactions in JSON-RPC batches of `chunk`; one outcome per
        input. The node's chain identity is checked again right before each batch (a node
        restarted fresh behind the same URL is caught even on a kept-alive connection), then
        `guard` is asked. A guard that refuses the first batch raises UnsafeToSend (nothing
        went out); one that refuses a later batch ends the broadcast there, and that batch
        and the rest are `unsent`."""
        return self._send(raws, read_block=False, guard=guard)[0]

    def _send(
        self, raws: Sequence[bytes], read_block: bool, guard: Guard | None
    ) -> tuple[list[SendOutcome], int]:
        outcomes: list[SendOutcome] = []
        block = 0
        size = self.chunk
        for start in range(0, len(raws), size):
            chunk = raws[start : start + size]
            calls = [("eth_sendRawTransaction", ["0x" + r.hex()]) for r in chunk]
            last = start + size >= len(raws)
            if read_block and last:
                calls.append(("eth_blockNumber", []))
            times: list[datetime] = []  # the guard's answers, the last for the endpoint used

            def stamped(times: list[datetime] = times) -> datetime:
                assert guard is not None
                times.append(guard())
                return times[-1]

            try:
                replies = self._batch(calls, True, stamped if guard is not None else None)
            except UnsafeToSend as exc:
                if not outcomes or isinstance(exc, WrongChain):
                    raise
                outcomes += [SendOutcome("unsent", None, str(exc)) for _ in raws[start:]]
                break
            if read_block and last:
                block = _ints("eth_blockNumber", ["head"], replies[-1:])["head"]
                replies = replies[:-1]
            at = times[-1] if times else None
            outcomes += [_outcome(reply, at) for reply in replies]
        return settle(self, raws, outcomes), block

    def rpc(self, method: str, *params: Any) -> Any:
        """Escape hatch for dev-chain methods (anvil_*, evm_*) used by tools and tests."""
        return self._request(method, params)
