"""A GMX leader's executions decoded from the local venue's real receipts (GMX's own event
names and items): open, increase, a partial decrease as a fraction of the size before, a
close, a keeper's liquidation and auto-deleveraging with their cause — and the filter that
finds the executions' transactions by the leader's account."""

from __future__ import annotations

import json

from core.adapters.chain import Chain
from core.adapters.gmx import local
from core.adapters.gmx.configure import gmx_config
from core.adapters.gmx.venue import GmxVenue
from core.adapters.signers.local import LocalSigner
from core.domain.chain import Log
from core.domain.leader_fills import FRACTION_ONE, FillSignal, LeaderFill, signal_of
from core.domain.types import Action
from tests.support.localgmx import (
    CHAIN_ID,
    ETH_1E6,
    MARKET_DECREASE,
    MARKET_INCREASE,
    USD,
    World,
    create_order,
    order_params,
)

E6 = 10**6


def venue(world: World) -> GmxVenue:
    env = local.settings_for(world.gmx)
    return GmxVenue(
        gmx_config(CHAIN_ID, env["COPYTRADE_GMX_CONTRACTS"], env["COPYTRADE_GMX_MARKETS"])
    )


def logs_of(chain: Chain, receipt: dict) -> list[Log]:
    return [
        Log(lg["address"], list(lg["topics"]), bytes.fromhex(lg["data"][2:]))
        for lg in receipt["logs"]
    ]


def executed(world: World, trader: LocalSigner, kind: int, size: int, collateral: int) -> dict:
    acceptable = 3_100 * E6 if kind == MARKET_INCREASE else 2_900 * E6
    params = order_params(world.gmx, trader.address, kind, size, collateral, acceptable)
    key, _ = create_order(world.chain, world.gmx, trader, params)
    return local.keeper_execute(
        world.chain, world.deployer, CHAIN_ID, world.gmx, key, ETH_1E6, "ETH"
    )


def only_fill(world: World, receipt: dict, trader: str) -> LeaderFill:
    ((who, fill),) = venue(world).decode_leader_fills(logs_of(world.chain, receipt))
    assert who == trader
    assert isinstance(fill, LeaderFill)
    return fill


def test_a_leader_s_executions_are_open_increase_fraction_and_close(
    world: World, follower: LocalSigner
) -> None:
    leader = follower
    start = world.chain.block_number()
    fill = only_fill(world, executed(world, leader, MARKET_INCREASE, 500, 100 * E6), leader.address)
    assert (fill.asset, fill.is_long, fill.increase) == ("ETH", True, True)
    assert (fill.size_delta_usd_1e6, fill.collateral_delta_usd_1e6) == (500 * E6, 100 * E6)
    assert (fill.price_usd_1e6, fill.cause) == (ETH_1E6, None)
    assert signal_of(fill) == FillSignal(Action.OPEN, 100 * E6, 5)

    fill = only_fill(world, executed(world, leader, MARKET_INCREASE, 300, 100 * E6), leader.address)
    assert signal_of(fill) == FillSignal(Action.INCREASE, 100 * E6, 3)

    # 240 of 800: 30% of the size before (sizeInUsd after is 560)
    fill = only_fill(world, executed(world, leader, MARKET_DECREASE, 240, 0), leader.address)
    assert (fill.size_after_raw, fill.size_delta_raw) == (560 * USD, 240 * USD)
    assert signal_of(fill) == FillSignal(Action.DECREASE, 0, 1, 3 * FRACTION_ONE // 10)

    fill = only_fill(world, executed(world, leader, MARKET_DECREASE, 560, 0), leader.address)
    assert signal_of(fill) == FillSignal(Action.CLOSE, 0, 1)

    # The filter finds the four execution transactions by the leader's account.
    f = venue(world).leader_filters([leader.address])
    found = world.chain.logs(f, start, world.chain.block_number())
    assert len({lg.tx_hash for lg in found}) == 4
    assert venue(world).leader_filters([]) == []


def test_a_liquidation_and_an_adl_of_the_leader_carry_their_cause(
    world: World, follower: LocalSigner
) -> None:
    leader = follower
    executed(world, leader, MARKET_INCREASE, 1_000, 200 * E6)
    adl = local.keeper_forced_decrease(
        world.chain,
        world.deployer,
        CHAIN_ID,
        world.gmx,
        leader.address,
        "ETH",
        True,
        ETH_1E6,
        size_delta_raw=250 * USD,
        adl=True,
    )
    fill = only_fill(world, adl, leader.address)
    assert signal_of(fill) == FillSignal(Action.DECREASE, 0, 1, FRACTION_ONE // 4, "adl")

    liquidated = local.keeper_forced_decrease(
        world.chain, world.deployer, CHAIN_ID, world.gmx, leader.address, "ETH", True, ETH_1E6
    )
    fill = only_fill(world, liquidated, leader.address)
    assert signal_of(fill) == FillSignal(Action.CLOSE, 0, 1, None, "liquidation")
    assert local.position(world.chain, world.gmx, leader.address, "ETH", True)[0] == 0


def test_a_market_not_configured_is_a_reason_not_a_fill(
    world: World, follower: LocalSigner
) -> None:
    receipt = executed(world, follower, MARKET_INCREASE, 100, 50 * E6)
    env = local.settings_for(world.gmx)
    markets = json.loads(env["COPYTRADE_GMX_MARKETS"])
    del markets["ETH"]
    btc_only = GmxVenue(gmx_config(CHAIN_ID, env["COPYTRADE_GMX_CONTRACTS"], json.dumps(markets)))
    ((who, why),) = btc_only.decode_leader_fills(logs_of(world.chain, receipt))
    assert who == follower.address
    assert why == f"market {world.gmx.markets['ETH']} is not configured"
