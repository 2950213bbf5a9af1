"""EIP-1559 fee math (pure; the chain adapter only fetches the numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median_low

from core.domain.types import Wei

GWEI = 10**9


@dataclass(frozen=True)
class Fees:
    max_fee_per_gas: Wei
    max_priority_fee_per_gas: Wei


def suggest(next_base_fee: int, rewards: list[int], min_tip: int = GWEI // 10) -> Fees:
    """maxFee = 2 x next base fee + tip, which survives six full blocks of +12.5 % base fee.

    The tip is the median of the recent blocks' chosen reward percentile, at least `min_tip`.
    """
    if next_base_fee < 0 or any(r < 0 for r in rewards):
        raise ValueError("fees cannot be negative")
    tip = max(min_tip, median_low(rewards) if rewards else 0)
    return Fees(Wei(2 * next_base_fee + tip), Wei(tip))


BUMP_NUM, BUMP_DEN = 9, 8  # a replacement's fees: at least ceil(9/8 = 1.125 x) the previous


def bumped(previous: int, numerator: int = BUMP_NUM, denominator: int = BUMP_DEN) -> Wei:
    """ceil(previous x 1.125): the smallest replacement fee we allow (geth wants +10 %)."""
    return Wei(-(-previous * numerator // denominator))


def replacement(previous: Fees, market: Fees, ceiling: int) -> Fees | None:
    """Fees for a replacement at the same nonce: each field at least ceil(1.125 x previous)
    and at least what the market asks now. None when that would pass the ceiling (the
    intent is then held; nothing above the ceiling is ever signed)."""
    tip = max(bumped(previous.max_priority_fee_per_gas), market.max_priority_fee_per_gas)
    max_fee = max(bumped(previous.max_fee_per_gas), market.max_fee_per_gas, tip)
    if max_fee > ceiling:
        return None
    return Fees(Wei(max_fee), Wei(tip))


def capped(fees: Fees, ceiling: int) -> Fees:
    """A first attempt never bids above the ceiling either."""
    max_fee = min(fees.max_fee_per_gas, ceiling)
    return Fees(Wei(max_fee), Wei(min(fees.max_priority_fee_per_gas, max_fee)))


def is_stuck(
    *,
    age_s: float,
    blocks_since: int | None,
    max_fee_per_gas: int,
    next_base_fee: int,
    after_s: float,
    after_blocks: int,
) -> bool:
    """Sent too long ago (by time or by blocks), or bidding under the next base fee."""
    if max_fee_per_gas < next_base_fee:
        return True
    if age_s >= after_s:
        return True
    return blocks_since is not None and blocks_since >= after_blocks
