"""Who took a signer's nonce, as one node sees it at one pinned block.

Every round trip goes to the same endpoint (`Chain.on_one_endpoint`): the head block is read
first and every later question is asked at that block number, with the block's hash read
again in the same batch as the count (a head that moved under us is a TransientError, asked
again next scan). The transaction that took the nonce is found by bisecting the signer's
transaction count over block numbers and reading that block's transactions — so "used
outside the system" is a hash seen on chain, never an inference from two answers that may
come from different nodes (a lagging fallback, a load-balanced provider) or straddle a reorg.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from core.adapters.chain import Batch, Chain
from core.domain.chain import OURS, OUTSIDE, UNKNOWN, UNUSED, NonceAudit
from core.domain.errors import TransientError


def _result(reply: dict[str, Any], what: str) -> Any:
    if "error" in reply or reply.get("result") is None:
        raise _Missing(f"{what}: {reply.get('error') or 'no result'}")
    return reply["result"]


class _Missing(Exception):
    """The node could not answer a historical question (pruned state, unknown block)."""


def audit_nonce(
    chain: Chain, address: str, nonce: int, ours: Collection[str], search_blocks: int = 100_000
) -> NonceAudit:
    mine = {h.lower() for h in ours}

    def run(batch: Batch, _provider: object) -> NonceAudit:
        number, head_hash = 0, ""
        try:
            (head,) = batch([("eth_getBlockByNumber", ["latest", False])])
            top = _result(head, "head")
            number, head_hash = int(top["number"], 16), str(top["hash"])
            pinned, count = batch(
                [
                    ("eth_getBlockByNumber", [hex(number), False]),
                    ("eth_getTransactionCount", [address, hex(number)]),
                ]
            )
            if _result(pinned, "pinned block")["hash"] != head_hash:
                raise TransientError("the head moved under the nonce audit; asked again later")
            if int(_result(count, "count"), 16) <= nonce:
                return NonceAudit(UNUSED, number, head_hash)
            return _find(batch, address, nonce, mine, number, head_hash, search_blocks)
        except _Missing:
            return NonceAudit(UNKNOWN, number, head_hash)

    result: NonceAudit = chain.on_one_endpoint(run, "nonce audit")
    return result


def _find(
    batch: Batch,
    address: str,
    nonce: int,
    mine: set[str],
    head: int,
    head_hash: str,
    search_blocks: int,
) -> NonceAudit:
    def count_at(block: int) -> int:
        (r,) = batch([("eth_getTransactionCount", [address, hex(block)])])
        return int(_result(r, f"count at {block}"), 16)

    below = max(-1, head - search_blocks)  # count(below) <= nonce; -1: before genesis
    if below >= 0 and count_at(below) > nonce:
        return NonceAudit(UNKNOWN, head, head_hash)
    above = head  # count(above) > nonce
    while above - below > 1:
        mid = (below + above) // 2
        if count_at(mid) > nonce:
            above = mid
        else:
            below = mid
    (r,) = batch([("eth_getBlockByNumber", [hex(above), True])])
    block = _result(r, f"block {above}")
    txs: Sequence[dict[str, Any]] = block["transactions"]
    for tx in txs:
        if str(tx["from"]).lower() == address.lower() and int(tx["nonce"], 16) == nonce:
            h = str(tx["hash"]).lower()
            status = OURS if h in mine else OUTSIDE
            return NonceAudit(status, head, head_hash, h, above, str(block["hash"]))
    return NonceAudit(UNKNOWN, head, head_hash)
