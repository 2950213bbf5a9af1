"""The local GMX venue on anvil driven with the GMX SDK's own ABIs (contracts/gmx/sdk.json,
not the local artifacts): SDK-encoded multicalls, EventLog decoding, reader calls — the
helpers of tests/integration/test_gmx_local.py and test_gmx_fees.py."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from eth_abi import decode
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from core.adapters.chain import Chain
from core.adapters.gmx import local
from core.adapters.gmx.local import LocalGmx
from core.adapters.signers.local import LocalSigner
from core.domain import fees
from core.domain.attempts import TxSpec
from tests.support.abi import signature, type_string

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


def selector(name: str) -> bytes:
    return keccak(text=signature(_abi("error", "CustomErrors", name)))[:4]


def error_types(name: str) -> list[str]:
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
    chain: Chain,
    signer: LocalSigner,
    to: str,
    data: bytes,
    value: int,
    fee: fees.Fees | None = None,
) -> dict[str, Any]:
    """send_and_wait with msg.value (it sends none): the follower's multicall pays the fee;
    `fee`: these gas fees (default: suggested from the fee history)."""
    fee = fee or fees.suggest(*chain.fee_history())
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


def revert_data(
    url: str, sender: str, to: str, data: bytes, value: int = 0, gas_price: int | None = None
) -> bytes:
    """The revert data of an eth_call (the Chain adapter keeps only the message); with
    `gas_price` the call runs with that tx.gasprice."""
    call = {"from": sender, "to": to, "data": "0x" + data.hex(), "value": hex(value)}
    if gas_price is not None:
        call["gasPrice"] = hex(gas_price)
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
    fee: int = FEE,
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
    numbers = (size_usd * USD, collateral, 0, acceptable, fee, 0, 0, 0)
    return (addresses, numbers, order_type, 0, is_long, False, False, b"\x00" * 32, [])


def multicall(gmx: LocalGmx, params: tuple[Any, ...]) -> bytes:
    """One SDK-encoded multicall: sendWnt(fee) [+ sendTokens(collateral)] + createOrder."""
    calls = [EXCHANGE.encode_abi("sendWnt", args=[gmx.order_vault, params[1][4]])]
    if params[2] == MARKET_INCREASE:
        calls.append(
            EXCHANGE.encode_abi("sendTokens", args=[gmx.usdc, gmx.order_vault, params[1][1]])
        )
    calls.append(EXCHANGE.encode_abi("createOrder", args=[params]))
    return bytes.fromhex(
        EXCHANGE.encode_abi("multicall", args=[[bytes.fromhex(c[2:]) for c in calls]])[2:]
    )


def create_order(
    chain: Chain,
    gmx: LocalGmx,
    follower: LocalSigner,
    params: tuple[Any, ...],
    fee: fees.Fees | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """`multicall` sent with its execution fee as the value; the key and the receipt."""
    data = multicall(gmx, params)
    receipt = send_with_value(chain, follower, gmx.exchange_router, data, params[1][4], fee)
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


@dataclass
class World:
    chain: Chain
    url: str
    gmx: LocalGmx
    deployer: LocalSigner


def open_long(
    world: World, follower: LocalSigner, size_usd: int = 500, collateral: int = 100 * 10**6
) -> bytes:
    params = order_params(
        world.gmx, follower.address, MARKET_INCREASE, size_usd, collateral, 3_100 * 10**6
    )
    key, _ = create_order(world.chain, world.gmx, follower, params)
    local.keeper_execute(world.chain, world.deployer, CHAIN_ID, world.gmx, key, ETH_1E6, "ETH")
    return key
