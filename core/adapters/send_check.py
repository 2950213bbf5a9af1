"""A refused broadcast decided from the chain, not from the node's words.

Node error strings differ between implementations (Ganache answers "transaction
underpriced" for a transaction it already has, Nethermind "AlreadyKnown", Ganache "the tx
doesn't have the correct nonce" for a used nonce). So after every refusal the same node is
asked, at one pinned block, about our own transaction (core/domain/chain.settle_refusal):

- the node has our hash (pending or mined) -> `known`: it is accepted;
- else our signer's nonce is consumed at the pinned block -> `nonce_too_low` (another
  transaction took it: the nonce-sync path decides whose, from the chain again);
- else the message's class stands (a "nonce too low" the chain contradicts is an `error`,
  retried as one).

A lookup that fails (or meets the wrong chain) leaves the message's class: the check
only ever turns a refusal into a better-founded one, and it runs for refusals only (no cost
on the accepted path).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

import rlp
from eth_utils import keccak

from core.domain.chain import SendOutcome, settle_refusal
from core.domain.errors import ChainError, TransientError, UnsafeToSend

# One JSON-RPC batch on one pinned endpoint (core/adapters/chain.py `Batch`).
Batch = Callable[[Sequence[tuple[str, Sequence[Any]]]], list[dict[str, Any]]]


class OneEndpoint(Protocol):
    def on_one_endpoint(self, fn: Callable[[Batch, Any], Any], what: str) -> Any: ...


log = logging.getLogger(__name__)
SETTLED = ("ok", "known", "unsent")


def tx_hash(raw: bytes) -> str:
    """A signed transaction's hash: keccak of its bytes (typed envelope or legacy RLP)."""
    return "0x" + keccak(raw).hex()


def sender_and_nonce(raw: bytes) -> tuple[str, int]:
    """Who signed `raw` and at which nonce (typed: type byte || rlp([chainId, nonce, …]))."""
    from eth_account import Account  # start-up cost: eth_account

    fields = rlp.decode(raw[1:]) if raw[0] < 0x80 else rlp.decode(raw)
    nonce = fields[1] if raw[0] < 0x80 else fields[0]
    return str(Account.recover_transaction(raw)), int.from_bytes(nonce, "big")


def settle(
    chain: OneEndpoint, raws: Sequence[bytes], outcomes: list[SendOutcome]
) -> list[SendOutcome]:
    """`outcomes` (one per raw) with every refusal decided from the chain."""
    refused = [i for i, o in enumerate(outcomes) if o.kind not in SETTLED]
    if not refused:
        return outcomes
    hashes = [tx_hash(raws[i]) for i in refused]

    def run(batch: Batch, _provider: object) -> list[SendOutcome]:
        head_reply, *found = batch(
            [("eth_blockNumber", []), *(("eth_getTransactionByHash", [h]) for h in hashes)]
        )
        head = _result(head_reply)
        unknown = [n for n, reply in enumerate(found) if not _result(reply)]
        who = {n: sender_and_nonce(raws[refused[n]]) for n in unknown}
        asks = [("eth_getTransactionCount", [who[n][0], head]) for n in unknown]
        counts = batch(asks) if asks else []
        count = {n: int(_result(c), 16) for n, c in zip(unknown, counts, strict=True)}
        out = list(outcomes)
        for n, i in enumerate(refused):
            o = outcomes[i]
            nonce = who[n][1] if n in who else 0
            kind = settle_refusal(o.kind, n not in who, count.get(n), nonce)
            if kind != o.kind:
                log.info(
                    "broadcast of %s: the node said %r; the chain says %s",
                    hashes[n],
                    o.message,
                    kind,
                )
                out[i] = replace(o, kind=kind, tx_hash=hashes[n] if kind == "known" else None)
        return out

    try:
        result: list[SendOutcome] = chain.on_one_endpoint(run, "the refused broadcasts' check")
    except (ChainError, TransientError, UnsafeToSend, ValueError, rlp.DecodingError) as exc:
        # UnsafeToSend: the endpoint now answers for another chain (WrongChain); what was
        # sent stands, and the next call to it raises where the caller decides.
        log.warning("refused broadcasts not checked on chain (the message decides): %s", exc)
        return outcomes
    return result


def _result(reply: dict[str, Any]) -> Any:
    if "error" in reply:
        raise TransientError(f"{reply['error']}")
    return reply.get("result")
