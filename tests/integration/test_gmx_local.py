"""The local GMX venue on anvil, driven with the GMX SDK's own ABIs (contracts/gmx/sdk.json,
not the local artifacts): what a real GMX v2 accepts and emits, it accepts and emits —
orders created in one multicall, executed or cancelled by the keeper, read back through
the reader, cancelled by their owner once expired. Each test uses fresh wallets."""

from __future__ import annotations

import time

import pytest
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

from core.adapters.gmx import local
from core.adapters.signers.local import LocalSigner
from core.adapters.venue_admin import send_and_wait
from core.domain.errors import ChainError
from tests.support.localgmx import (
    CHAIN_ID,
    ETH_1E6,
    EXCHANGE,
    FEE,
    MARKET_DECREASE,
    MARKET_INCREASE,
    USD,
    World,
    account_positions,
    b32,
    create_order,
    error_types,
    events,
    one,
    open_long,
    order_params,
    revert_data,
    selector,
    usdc_balance,
)

# -- tests ------------------------------------------------------------------------------


def test_an_sdk_encoded_multicall_creates_an_order_with_gmx_s_order_created_event(
    world: World, follower: LocalSigner
) -> None:
    params = order_params(
        world.gmx, follower.address, MARKET_INCREASE, 500, 100 * 10**6, 3_100 * 10**6
    )
    key, receipt = create_order(world.chain, world.gmx, follower, params)
    created = one(receipt, world.gmx, "OrderCreated")
    assert created.kind == "EventLog2"
    assert created.topic2 == b32(follower.address)
    assert created.items["bytes32"]["key"] == key
    assert created.items["address"]["account"] == follower.address
    assert created.items["address"]["market"] == world.gmx.markets["ETH"]
    assert created.items["address[]"]["swapPath"] == ()
    uints = created.items["uint"]
    assert (uints["orderType"], uints["sizeDeltaUsd"]) == (MARKET_INCREASE, 500 * USD)
    assert (uints["initialCollateralDeltaAmount"], uints["executionFee"]) == (100 * 10**6, FEE)
    assert created.items["bool"] == {
        "isLong": True,
        "shouldUnwrapNativeToken": False,
        "isFrozen": False,
        "autoCancel": False,
    }
    assert key in local.pending_orders(world.chain, world.gmx)
    assert usdc_balance(world.chain, world.gmx, world.gmx.order_vault) >= 100 * 10**6


def test_the_keeper_executes_an_increase_into_a_position_the_reader_returns(
    world: World, follower: LocalSigner
) -> None:
    params = order_params(
        world.gmx, follower.address, MARKET_INCREASE, 500, 100 * 10**6, 3_100 * 10**6
    )
    key, _ = create_order(world.chain, world.gmx, follower, params)
    receipt = local.keeper_execute(
        world.chain, world.deployer, CHAIN_ID, world.gmx, key, ETH_1E6, "ETH"
    )
    increase = one(receipt, world.gmx, "PositionIncrease")
    price = local.gmx_price(ETH_1E6, 18)
    assert (increase.kind, increase.topic1) == ("EventLog1", b32(follower.address))
    assert increase.items["bytes32"]["orderKey"] == key
    assert increase.items["uint"]["sizeInUsd"] == 500 * USD
    assert increase.items["uint"]["sizeDeltaInTokens"] == 500 * USD // price
    assert increase.items["uint"]["executionPrice"] == price
    assert increase.items["int"]["collateralDeltaAmount"] == 100 * 10**6
    executed = one(receipt, world.gmx, "OrderExecuted")
    assert (executed.topic1, executed.topic2) == ("0x" + key.hex(), b32(follower.address))
    assert key not in local.pending_orders(world.chain, world.gmx)

    (pos,) = account_positions(world.chain, world.gmx, follower.address)
    assert tuple(map(to_checksum_address, pos[0])) == (
        follower.address,
        world.gmx.markets["ETH"],
        world.gmx.usdc,
    )
    assert pos[1][:3] == (500 * USD, 500 * USD // price, 100 * 10**6)
    assert pos[2] == (True,)
    assert local.position(world.chain, world.gmx, follower.address, "ETH", True) == pos[1][:3]
    assert increase.items["bytes32"]["positionKey"] == local.position_key(
        follower.address, world.gmx.markets["ETH"], world.gmx.usdc, True
    )


def test_a_decrease_withdraws_collateral_and_a_full_close_returns_the_rest(
    world: World, follower: LocalSigner
) -> None:
    open_long(world, follower)
    start = usdc_balance(world.chain, world.gmx, follower.address)
    half = order_params(
        world.gmx, follower.address, MARKET_DECREASE, 250, 30 * 10**6, 2_900 * 10**6
    )
    key, _ = create_order(world.chain, world.gmx, follower, half)
    receipt = local.keeper_execute(
        world.chain, world.deployer, CHAIN_ID, world.gmx, key, ETH_1E6, "ETH"
    )
    decrease = one(receipt, world.gmx, "PositionDecrease")
    assert decrease.items["uint"]["sizeInUsd"] == 250 * USD
    assert decrease.items["uint"]["collateralDeltaAmount"] == 30 * 10**6
    assert local.position(world.chain, world.gmx, follower.address, "ETH", True)[2] == 70 * 10**6
    assert usdc_balance(world.chain, world.gmx, follower.address) == start + 30 * 10**6

    rest = order_params(world.gmx, follower.address, MARKET_DECREASE, 250, 0, 2_900 * 10**6)
    key, _ = create_order(world.chain, world.gmx, follower, rest)
    receipt = local.keeper_execute(
        world.chain, world.deployer, CHAIN_ID, world.gmx, key, ETH_1E6, "ETH"
    )
    closed = one(receipt, world.gmx, "PositionDecrease")
    assert (closed.items["uint"]["sizeInUsd"], closed.items["uint"]["collateralAmount"]) == (0, 0)
    assert usdc_balance(world.chain, world.gmx, follower.address) == 1_000 * 10**6
    assert account_positions(world.chain, world.gmx, follower.address) == []
    assert local.position(world.chain, world.gmx, follower.address, "ETH", True) == (0, 0, 0)


def test_a_price_beyond_the_acceptable_one_cancels_and_refunds_collateral_and_fee(
    world: World, follower: LocalSigner
) -> None:
    params = order_params(
        world.gmx, follower.address, MARKET_INCREASE, 500, 100 * 10**6, 3_000 * 10**6
    )
    key, _ = create_order(world.chain, world.gmx, follower, params)
    eth_before = world.chain.balance(follower.address)
    assert usdc_balance(world.chain, world.gmx, follower.address) == 900 * 10**6
    receipt = local.keeper_execute(
        world.chain, world.deployer, CHAIN_ID, world.gmx, key, 3_100 * 10**6, "ETH"
    )
    cancelled = one(receipt, world.gmx, "OrderCancelled")
    assert (cancelled.topic1, cancelled.topic2) == ("0x" + key.hex(), b32(follower.address))
    assert cancelled.items["string"]["reason"] == "OrderNotFulfillableAtAcceptablePrice"
    reason = cancelled.items["bytes"]["reasonBytes"]
    assert reason[:4] == selector("OrderNotFulfillableAtAcceptablePrice")
    assert decode(error_types("OrderNotFulfillableAtAcceptablePrice"), reason[4:]) == (
        local.gmx_price(3_100 * 10**6, 18),
        local.gmx_price(3_000 * 10**6, 18),
    )
    assert events(receipt, world.gmx, "PositionIncrease") == []
    assert usdc_balance(world.chain, world.gmx, follower.address) == 1_000 * 10**6
    assert world.chain.balance(follower.address) == eth_before + FEE
    assert local.position(world.chain, world.gmx, follower.address, "ETH", True) == (0, 0, 0)


def test_a_decrease_larger_than_the_position_is_cancelled(
    world: World, follower: LocalSigner
) -> None:
    open_long(world, follower)
    params = order_params(world.gmx, follower.address, MARKET_DECREASE, 600, 0, 2_900 * 10**6)
    key, _ = create_order(world.chain, world.gmx, follower, params)
    receipt = local.keeper_execute(
        world.chain, world.deployer, CHAIN_ID, world.gmx, key, ETH_1E6, "ETH"
    )
    cancelled = one(receipt, world.gmx, "OrderCancelled")
    assert cancelled.items["string"]["reason"] == "InvalidDecreaseOrderSize"
    assert cancelled.items["bytes"]["reasonBytes"][:4] == selector("InvalidDecreaseOrderSize")
    assert local.position(world.chain, world.gmx, follower.address, "ETH", True)[0] == 500 * USD


def test_the_owner_cannot_cancel_before_expiry_and_can_after(
    world: World, follower: LocalSigner, restore_expiry: None
) -> None:
    local.set_uint(world.chain, world.deployer, CHAIN_ID, world.gmx, "REQUEST_EXPIRATION_TIME", 300)
    params = order_params(
        world.gmx, follower.address, MARKET_INCREASE, 500, 100 * 10**6, 3_100 * 10**6
    )
    key, _ = create_order(world.chain, world.gmx, follower, params)
    cancel = bytes.fromhex(EXCHANGE.encode_abi("cancelOrder", args=[key])[2:])
    data = revert_data(world.url, follower.address, world.gmx.exchange_router, cancel)
    assert data[:4] == selector("RequestNotYetCancellable")
    age, expiration, kind = decode(error_types("RequestNotYetCancellable"), data[4:])
    assert (expiration, kind) == (300, "Order")
    assert age < 300
    stranger = revert_data(world.url, world.deployer.address, world.gmx.exchange_router, cancel)
    assert stranger[:4] == selector("Unauthorized")

    local.set_uint(world.chain, world.deployer, CHAIN_ID, world.gmx, "REQUEST_EXPIRATION_TIME", 1)
    time.sleep(1.5)  # a block or more past the order's time
    _, receipt = send_and_wait(
        world.chain, follower, CHAIN_ID, world.gmx.exchange_router, cancel, gas=1_000_000
    )
    cancelled = one(receipt, world.gmx, "OrderCancelled")
    assert cancelled.items["string"]["reason"] == "USER_INITIATED_CANCEL"
    assert cancelled.items["bytes"]["reasonBytes"] == b""
    assert usdc_balance(world.chain, world.gmx, follower.address) == 1_000 * 10**6
    assert key not in local.pending_orders(world.chain, world.gmx)


def test_the_keeper_cancels_with_its_reason_and_only_keepers_may(
    world: World, follower: LocalSigner
) -> None:
    params = order_params(
        world.gmx, follower.address, MARKET_INCREASE, 500, 100 * 10**6, 3_100 * 10**6
    )
    key, _ = create_order(world.chain, world.gmx, follower, params)
    execute = local.calldata("executeOrder(bytes32,uint256)", key, local.gmx_price(ETH_1E6, 18))
    assert revert_data(world.url, follower.address, world.gmx.order_handler, execute)[
        :4
    ] == selector("Unauthorized")
    receipt = local.keeper_cancel(
        world.chain, world.deployer, CHAIN_ID, world.gmx, key, "stale price"
    )
    assert one(receipt, world.gmx, "OrderCancelled").items["string"]["reason"] == "stale price"
    assert usdc_balance(world.chain, world.gmx, follower.address) == 1_000 * 10**6


def test_a_done_order_cannot_be_executed_again(world: World, follower: LocalSigner) -> None:
    key = open_long(world, follower)
    execute = local.calldata("executeOrder(bytes32,uint256)", key, local.gmx_price(ETH_1E6, 18))
    data = revert_data(world.url, world.deployer.address, world.gmx.order_handler, execute)
    assert data == selector("OrderNotFound") + encode(["bytes32"], [key])
    with pytest.raises(ChainError, match="reverted"):
        local.keeper_execute(world.chain, world.deployer, CHAIN_ID, world.gmx, key, ETH_1E6, "ETH")
    assert local.position(world.chain, world.gmx, follower.address, "ETH", True)[0] == 500 * USD


def test_send_wnt_takes_only_the_order_vault_and_collateral_must_match(
    world: World, follower: LocalSigner
) -> None:
    wrong = bytes.fromhex(EXCHANGE.encode_abi("sendWnt", args=[follower.address, FEE])[2:])
    data = revert_data(world.url, follower.address, world.gmx.exchange_router, wrong, FEE)
    assert data == selector("InvalidReceiver") + encode(["address"], [follower.address])
    params = order_params(
        world.gmx, follower.address, MARKET_INCREASE, 500, 100 * 10**6, 3_100 * 10**6
    )
    calls = [
        EXCHANGE.encode_abi("sendWnt", args=[world.gmx.order_vault, FEE]),
        EXCHANGE.encode_abi("sendTokens", args=[world.gmx.usdc, world.gmx.order_vault, 99 * 10**6]),
        EXCHANGE.encode_abi("createOrder", args=[params]),
    ]
    multicall = bytes.fromhex(
        EXCHANGE.encode_abi("multicall", args=[[bytes.fromhex(c[2:]) for c in calls]])[2:]
    )
    data = revert_data(world.url, follower.address, world.gmx.exchange_router, multicall, FEE)
    assert data == keccak(text="CollateralAmountMismatch(uint256,uint256)")[:4] + encode(
        ["uint256", "uint256"], [99 * 10**6, 100 * 10**6]
    )
