"""A node's fee data with its gaps: rewards all zero (Hardhat's [['0x0']]) or missing take
the node's eth_maxPriorityFeePerGas; no eth_feeHistory at all takes 9/8 of the latest
block's base fee; nothing to fall back on is a TransientError (asked again later)."""

from __future__ import annotations

from typing import Any

import pytest

from core.adapters.chain_fees import fee_data
from core.domain.errors import TransientError
from core.domain.fees import GWEI, suggest

HISTORY = {"result": {"baseFeePerGas": ["0x1", hex(10 * GWEI)], "reward": [[hex(2 * GWEI)]]}}
SUGGESTED = {"result": hex(3 * GWEI)}
NOT_FOUND = {"error": {"code": -32601, "message": "the method eth_feeHistory does not exist"}}


def no_block() -> dict[str, Any] | None:
    raise AssertionError("the latest block is read only without a history")


def test_the_history_s_rewards_when_it_has_some() -> None:
    assert fee_data([HISTORY, SUGGESTED], no_block) == (10 * GWEI, [2 * GWEI])


@pytest.mark.parametrize("reward", [[["0x0"]], [], None, [[]]])
def test_zero_or_missing_rewards_take_the_node_s_suggested_tip(reward: Any) -> None:
    history = {"result": {"baseFeePerGas": [hex(10 * GWEI)], "reward": reward}}
    assert fee_data([history, SUGGESTED], no_block) == (10 * GWEI, [3 * GWEI])


def test_no_tip_anywhere_leaves_the_floor_to_the_min_tip_never_zero() -> None:
    history = {"result": {"baseFeePerGas": [hex(10 * GWEI)], "reward": [["0x0"]]}}
    base, tips = fee_data([history, NOT_FOUND], no_block)
    assert tips == []
    assert suggest(base, tips, min_tip=GWEI // 10).max_priority_fee_per_gas == GWEI // 10


def test_without_a_history_the_next_base_fee_is_9_8_of_the_latest_block_s() -> None:
    def latest() -> dict[str, Any]:
        return {"baseFeePerGas": hex(8 * GWEI + 1)}

    assert fee_data([NOT_FOUND, SUGGESTED], latest) == (9 * GWEI + 2, [3 * GWEI])


def test_without_a_history_or_a_base_fee_it_is_asked_again_later() -> None:
    with pytest.raises(TransientError, match="eth_feeHistory"):
        fee_data([NOT_FOUND, SUGGESTED], lambda: {"number": "0x1"})
