"""The block, receipt-log and event-log reads of `Chain` (core/adapters/chain.py), through
its one endpoint-failover and identity-checked batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.domain.chain import Block, Log, Tx
from core.domain.errors import TransientError
from core.domain.venue import LogFilter


class BlockReads:
    """Mixed into `Chain`: everything here goes through its `_batch`."""

    def _batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
        raise NotImplementedError  # Chain's

    def blocks(self, numbers: Sequence[int]) -> list[Block | None]:
        """Blocks with their transactions, in one batch (None: not there yet)."""
        replies = self._batch([("eth_getBlockByNumber", [hex(n), True]) for n in numbers])
        out: list[Block | None] = []
        for reply in replies:
            b = reply.get("result")
            if "error" in reply:
                raise TransientError(f"block: {reply['error']}")
            out.append(
                None
                if not b
                else Block(
                    int(b["number"], 16),
                    b["hash"],
                    b["parentHash"],
                    int(b["timestamp"], 16),
                    [
                        Tx(t["hash"], t["from"], t.get("to"), bytes.fromhex(t["input"][2:]))
                        for t in b["transactions"]
                    ],
                )
            )
        return out

    def _headers(self, numbers: Sequence[int]) -> dict[int, dict[str, Any]]:
        replies = self._batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        return {n: r["result"] for n, r in zip(numbers, replies, strict=True) if r.get("result")}

    def block_hashes(self, numbers: Sequence[int]) -> dict[int, str]:
        """The canonical hash at each height the node has."""
        return {n: h["hash"] for n, h in self._headers(numbers).items()}

    def block_times(self, numbers: Sequence[int]) -> dict[int, int]:
        """The timestamp of each height the node has (one batch)."""
        return {n: int(h["timestamp"], 16) for n, h in self._headers(numbers).items()}

    def receipt_logs(self, hashes: Sequence[str]) -> dict[str, tuple[int, list[Log]]]:
        """(status, logs) of the mined ones among `hashes`."""
        found: dict[str, tuple[int, list[Log]]] = {}
        replies = self._batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        for h, reply in zip(hashes, replies, strict=True):
            if "error" in reply:
                raise TransientError(f"receipt {h}: {reply['error']}")
            r = reply.get("result")
            if r and r.get("blockHash"):
                logs = [
                    Log(lg["address"], list(lg["topics"]), bytes.fromhex(lg["data"][2:]))
                    for lg in r["logs"]
                ]
                found[h] = (int(r["status"], 16), logs)
        return found

    def logs(self, filters: Sequence[LogFilter], from_block: int, to_block: int) -> list[Log]:
        """The logs matching any of `filters` in [from_block, to_block] of the canonical
        chain (one batch; each with its block and transaction)."""
        if not filters:
            return []
        span = {"fromBlock": hex(from_block), "toBlock": hex(to_block)}
        replies = self._batch(
            [("eth_getLogs", [{**span, "address": f.address, "topics": f.topics}]) for f in filters]
        )
        found: list[Log] = []
        for f, reply in zip(filters, replies, strict=True):
            if "error" in reply:
                raise TransientError(f"logs of {f.address}: {reply['error']}")
            found += [
                Log(
                    lg["address"],
                    list(lg["topics"]),
                    bytes.fromhex(lg["data"][2:]),
                    int(lg["blockNumber"], 16),
                    lg["blockHash"],
                    lg["transactionHash"],
                    int(lg.get("logIndex") or "0x0", 16),
                )
                for lg in reply.get("result") or []
                if not lg.get("removed")
            ]
        return found
