"""The fee reads of a node, and what a node without a fee history (or with zero rewards)
falls back on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core.domain.errors import TransientError


def fee_calls(blocks: int, percentile: int) -> list[tuple[str, Sequence[Any]]]:
    """The fee reads, in one batch: the history, and the node's tip suggestion (for a node
    whose rewards are missing or zero: Hardhat answers [['0x0']])."""
    return [
        ("eth_feeHistory", [hex(blocks), "latest", [percentile]]),
        ("eth_maxPriorityFeePerGas", []),
    ]


def fee_data(
    replies: Sequence[dict[str, Any]], latest_block: Callable[[], dict[str, Any] | None]
) -> tuple[int, list[int]]:
    """(next block's base fee, recent tips) from `fee_calls`' replies. The history's when
    it answers; its rewards replaced by `eth_maxPriorityFeePerGas` when they are missing or
    all zero; without a history at all, the next base fee is at most 9/8 of the latest
    block's (EIP-1559; `latest_block` is read only then), the tip the node's suggestion.
    No tip from anywhere: [] — the COPYTRADE_MIN_TIP_WEI floor then applies, never a
    zero-tip order (docs/operations.md)."""
    history, suggested = replies
    tip = [int(suggested["result"], 16)] if suggested.get("result") else []
    if history.get("result"):
        h = history["result"]
        next_base = int(h["baseFeePerGas"][-1], 16)
        rewards = [int(r[0], 16) for r in h.get("reward") or [] if r]
        return next_base, rewards if any(rewards) else tip
    block = latest_block() or {}
    if "baseFeePerGas" not in block:
        raise TransientError(f"eth_feeHistory: {history.get('error')}; no base fee to fall back on")
    return -(-int(block["baseFeePerGas"], 16) * 9 // 8), tip
