"""The local GMX venue on anvil, driven with the GMX SDK's own ABIs (contracts/gmx/sdk.json,
not the local artifacts): what a real GMX v2 accepts and emits, it accepts and emits —
orders created in one multicall, executed or cancelled by the keeper, read back through
the reader, cancelled by their owner once expired. Each test uses fresh wallets."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from core.adapters.chain import Chain
from core.adapters.gmx import local
from core.adapters.gmx.local import LocalGmx
from core.adapters.signers.local import LocalSigner
from core.adapters.venue_admin import send_and_wait
from core.domain import fees
from core.domain.attempts import TxSpec
from core.domain.errors import ChainError
from tests.support.abi import signature, type_string
from tests.support.chain import ANVIL_KEY0

CHAIN_ID = 31337
SDK = json.loads((Path(__file__).resolve().parents[2] / "contracts/gmx/sdk.json").read_text())
ABIS = SDK["abis"]
W3 = Web3()
EXCHANGE = W3.eth.contract(abi=ABIS["ExchangeRouter"])
READER = W3.eth.contract(abi=ABIS["SyntheticsReader"])
MARKET_INCREASE, MARKET_DECREASE = 2, 4
FEE = 10**15  # wei of execution fee
USD = 10**30  # GMX's USD unit
ETH_1E6 = 3_000 * 10**6


def _abi(kind: str, contract: str, name: str) -> dict[str, Any]:
    (e,) = [x for x in ABIS[contract] if x["type"] == kind and x["name"] == name]
    found: dict[str, Any] = e
    return found


def _selector(name: str) -> bytes:
    return keccak(text=signature(_abi("error", "CustomErrors", name)))[:4]


def _error_types(name: str) -> list[str]:
    return [type_string(i) for i in _abi("error", "CustomErrors", name)["inputs"]]


TOPIC0 = {
    "0x" + keccak(text=signature(_abi("event", "EventEmitter", n))).hex(): n
    for n in ("EventLog1", "EventLog2")
}
LOG_DATA_TYPES = [
    type_string(i) for i in _abi("event", "EventEmitter", "EventLog1")["inputs"] if not i["indexed"]
]
GROUPS = ("address", "uint", "int", "bool", "bytes32", "bytes", "string")


@dataclass
class Event:
    """One EventLog1/2 decoded: its name, topic1/topic2 and items by group and key
    (`items["uint"]["sizeInUsd"]`, arrays under "<group>[]")."""

    kind: str
    name: str
    topic1: str
    topic2: str | None
    items: dict[str, dict[str, Any]]


def events(receipt: dict[str, Any], gmx: LocalGmx, name: str) -> list[Event]:
    found: list[Event] = []
    for log in receipt["logs"]:
        if log["address"].lower() != gmx.event_emitter.lower():
            continue
        topics = log["topics"]
        kind = TOPIC0[topics[0]]
        sender, event_name, data = decode(LOG_DATA_TYPES, bytes.fromhex(log["data"][2:]))
        assert sender.lower() == gmx.order_handler.lower()
        assert topics[1] == "0x" + keccak(text=event_name).hex()  # indexed string
        if event_name != name:
            continue
        items: dict[str, dict[str, Any]] = {}
        for group, (plain, arrays) in zip(GROUPS, data, strict=True):
            items[group] = dict(plain)
            items[group + "[]"] = dict(arrays)
        items["address"] = {k: to_checksum_address(v) for k, v in items["address"].items()}
        found.append(
            Event(kind, event_name, topics[2], topics[3] if len(topics) > 3 else None, items)
        )
    return found


def one(receipt: dict[str, Any], gmx: LocalGmx, name: str) -> Event:
    (e,) = events(receipt, gmx, name)
    return e


def b32(address: str) -> str:
    return "0x" + "00" * 12 + address[2:].lower()


# -- transactions and calls -------------------------------------------------------------


def send_with_value(
    chain: Chain, signer: LocalSigner, to: str, data: bytes, value: int
) -> dict[str, Any]:
    """send_and_wait with msg.value (it sends none): the follower's multicall pays the fee."""
    fee = fees.suggest(*chain.fee_history())
    tx = TxSpec(
        CHAIN_ID, chain.nonce(signer.address, "pending"), fee, to, data, 3_000_000
    ).as_dict()
    tx["value"] = value
    signed = signer.sign_transaction(tx)
    (out,) = chain.send_raw([signed.raw])
    assert out.accepted, out
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        raw = chain.rpc("eth_getTransactionReceipt", signed.tx_hash)
        if raw:
            assert int(raw["status"], 16) == 1, f"{signed.tx_hash} reverted"
            return dict(raw)
        time.sleep(0.05)
    raise AssertionError("not mined")


def revert_data(url: str, sender: str, to: str, data: bytes, value: int = 0) -> bytes:
    """The revert data of an eth_call (the Chain adapter keeps only the message)."""
    call = {"from": sender, "to": to, "data": "0x" + data.hex(), "value": hex(value)}
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [call, "latest"]}
    reply = requests.post(url, json=body, timeout=10).json()
    assert "error" in reply, f"the call did not revert: {reply}"
    return bytes.fromhex(reply["error"]["data"][2:])


def order_params(
    gmx: LocalGmx,
    receiver: str,
    order_type: int,
    size_usd: int,
    collateral: int,
    acceptable_1e6: int,
    is_long: bool = True,
) -> tuple[Any, ...]:
    addresses: tuple[Any, ...] = (
        receiver,
        receiver,
        "0x" + "00" * 20,
        "0x" + "00" * 20,
        gmx.markets["ETH"],
        gmx.usdc,
        [],
    )
    acceptable = local.gmx_price(acceptable_1e6, 18)
    numbers = (size_usd * USD, collateral, 0, acceptable, FEE, 0, 0, 0)
    return (addresses, numbers, order_type, 0, is_long, False, False, b"\x00" * 32, [])


def create_order(
    chain: Chain, gmx: LocalGmx, follower: LocalSigner, params: tuple[Any, ...]
) -> tuple[bytes, dict[str, Any]]:
    """One SDK-encoded multicall: sendWnt(fee) [+ sendTokens(collateral)] + createOrder."""
    calls = [EXCHANGE.encode_abi("sendWnt", args=[gmx.order_vault, FEE])]
    if params[2] == MARKET_INCREASE:
        calls.append(
            EXCHANGE.encode_abi("sendTokens", args=[gmx.usdc, gmx.order_vault, params[1][1]])
        )
    calls.append(EXCHANGE.encode_abi("createOrder", args=[params]))
    data = bytes.fromhex(
        EXCHANGE.encode_abi("multicall", args=[[bytes.fromhex(c[2:]) for c in calls]])[2:]
    )
    receipt = send_with_value(chain, follower, gmx.exchange_router, data, FEE)
    created = one(receipt, gmx, "OrderCreated")
    return bytes.fromhex(created.topic1[2:]), receipt


def usdc_balance(chain: Chain, gmx: LocalGmx, who: str) -> int:
    (value,) = decode(["uint256"], chain.call(gmx.usdc, local.calldata("balanceOf(address)", who)))
    return int(value)


def account_positions(chain: Chain, gmx: LocalGmx, account: str) -> list[Any]:
    data = READER.encode_abi("getAccountPositions", args=[gmx.data_store, account, 0, 10])
    raw = chain.call(gmx.reader, bytes.fromhex(data[2:]))
    (positions,) = decode(
        [
            type_string(o)
            for o in _abi("function", "SyntheticsReader", "getAccountPositions")["outputs"]
        ],
        raw,
    )
    return list(positions)


# -- fixtures ---------------------------------------------------------------------------


@dataclass
class World:
    chain: Chain
    url: str
    gmx: LocalGmx
    deployer: LocalSigner


@pytest.fixture(scope="module")
def world(anvil_url: str) -> World:
    chain = Chain(anvil_url)
    deployer = LocalSigner.from_key(ANVIL_KEY0)
    return World(chain, anvil_url, local.deploy_local_gmx(chain, deployer, CHAIN_ID), deployer)


@pytest.fixture
def follower(world: World) -> LocalSigner:
    """A fresh wallet with 10 ETH, 1,000 USDC, and the router approved for all of it."""
    signer = LocalSigner.from_key("0x" + secrets.token_hex(32))
    world.chain.rpc("anvil_setBalance", signer.address, hex(10 * 10**18))
    local.fund_usdc(world.chain, world.deployer, CHAIN_ID, world.gmx, signer.address, 1_000 * 10**6)
    local.approve_usdc(world.chain, signer, CHAIN_ID, world.gmx, 1_000 * 10**6)
    return signer


@pytest.fixture
def restore_expiry(world: World) -> Iterator[None]:
    """The test may change REQUEST_EXPIRATION_TIME (to expire an order without moving the
    shared anvil's clock, which other tests read); it is restored after."""
    before = local.get_uint(world.chain, world.gmx, "REQUEST_EXPIRATION_TIME")
    yield
    local.set_uint(
        world.chain, world.deployer, CHAIN_ID, world.gmx, "REQUEST_EXPIRATION_TIME", before
    )


def open_long(
    world: World, follower: LocalSigner, size_usd: int = 500, collateral: int = 100 * 10**6
) -> bytes:
    params = order_params(
        world.gmx, follower.address, MARKET_INCREASE, size_usd, collateral, 3_100 * 10**6
    )
    key, _ = create_order(world.chain, world.gmx, follower, params)
    local.keeper_execute(world.chain, world.deployer, CHAIN_ID, world.gmx, key, ETH_1E6, "ETH")
    return key


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
    assert reason[:4] == _selector("OrderNotFulfillableAtAcceptablePrice")
    assert decode(_error_types("OrderNotFulfillableAtAcceptablePrice"), reason[4:]) == (
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
    assert cancelled.items["bytes"]["reasonBytes"][:4] == _selector("InvalidDecreaseOrderSize")
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
    assert data[:4] == _selector("RequestNotYetCancellable")
    age, expiration, kind = decode(_error_types("RequestNotYetCancellable"), data[4:])
    assert (expiration, kind) == (300, "Order")
    assert age < 300
    stranger = revert_data(world.url, world.deployer.address, world.gmx.exchange_router, cancel)
    assert stranger[:4] == _selector("Unauthorized")

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
    ] == _selector("Unauthorized")
    receipt = local.keeper_cancel(
        world.chain, world.deployer, CHAIN_ID, world.gmx, key, "stale price"
    )
    assert one(receipt, world.gmx, "OrderCancelled").items["string"]["reason"] == "stale price"
    assert usdc_balance(world.chain, world.gmx, follower.address) == 1_000 * 10**6


def test_a_done_order_cannot_be_executed_again(world: World, follower: LocalSigner) -> None:
    key = open_long(world, follower)
    execute = local.calldata("executeOrder(bytes32,uint256)", key, local.gmx_price(ETH_1E6, 18))
    data = revert_data(world.url, world.deployer.address, world.gmx.order_handler, execute)
    assert data == _selector("OrderNotFound") + encode(["bytes32"], [key])
    with pytest.raises(ChainError, match="reverted"):
        local.keeper_execute(world.chain, world.deployer, CHAIN_ID, world.gmx, key, ETH_1E6, "ETH")
    assert local.position(world.chain, world.gmx, follower.address, "ETH", True)[0] == 500 * USD


def test_send_wnt_takes_only_the_order_vault_and_collateral_must_match(
    world: World, follower: LocalSigner
) -> None:
    wrong = bytes.fromhex(EXCHANGE.encode_abi("sendWnt", args=[follower.address, FEE])[2:])
    data = revert_data(world.url, follower.address, world.gmx.exchange_router, wrong, FEE)
    assert data == _selector("InvalidReceiver") + encode(["address"], [follower.address])
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
