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


def bumped(previous: int, numerator: int = 9, denominator: int = 8) -> Wei:
    """ceil(previous x 1.125): the smallest replacement fee we allow (geth wants +10 %)."""
    return Wei(-(-previous * numerator // denominator))
