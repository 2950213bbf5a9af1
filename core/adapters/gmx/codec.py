"""GMX v2 calldata: the ExchangeRouter's multicall and order calls, the reader's positions,
the DataStore's keys. Pure functions, no chain access.

Every type string comes from the SDK's ABI (sdk.py), never written by hand here, so the
pinned ABI file is the one source of the encoding. Structs are passed and returned as
dicts keyed by the ABI's own field names (`{"addresses": {"receiver": …}, "numbers": …}`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils import collapse_if_tuple, function_abi_to_4byte_selector, keccak
from eth_utils import to_checksum_address as checksum

from core.adapters.gmx import sdk

# Order.OrderType and Order.DecreasePositionSwapType (contracts/order/Order.sol), in
# declaration order: the ABI carries them as a bare uint8.
MARKET_SWAP, LIMIT_SWAP, MARKET_INCREASE, LIMIT_INCREASE, MARKET_DECREASE = 0, 1, 2, 3, 4
NO_SWAP = 0

ZERO_ADDRESS = "0x" + "00" * 20
ZERO_BYTES32 = b"\0" * 32

# -- the ABI as types -------------------------------------------------------------------------


def _types(params: Sequence[Mapping[str, Any]]) -> list[str]:
    return [collapse_if_tuple(dict(p)) for p in params]


def _named(params: Sequence[Mapping[str, Any]], values: Sequence[Any]) -> dict[str, Any]:
    """Decoded values -> a dict by the ABI's names, structs (and arrays of them) nested."""
    return {p["name"]: _name_one(p, v) for p, v in zip(params, values, strict=True)}


def _name_one(p: Mapping[str, Any], v: Any) -> Any:
    kind: str = p["type"]
    if kind == "tuple":
        return _named(p["components"], v)
    if kind.startswith("tuple["):
        return [_name_one({**p, "type": kind[: kind.rindex("[")]}, x) for x in v]
    if kind == "address":
        return checksum(v)
    return list(v) if isinstance(v, tuple) else v


def _positional(params: Sequence[Mapping[str, Any]], values: Mapping[str, Any]) -> list[Any]:
    """A dict by the ABI's names -> the positional values eth_abi encodes (a missing or
    unknown field raises KeyError / ValueError: the dict must match the ABI exactly)."""
    extra = set(values) - {p["name"] for p in params}
    if extra:
        raise ValueError(f"fields not in the ABI: {sorted(extra)}")
    return [_position_one(p, values[p["name"]]) for p in params]


def _position_one(p: Mapping[str, Any], v: Any) -> Any:
    kind: str = p["type"]
    if kind == "tuple":
        return tuple(_positional(p["components"], v))
    if kind.startswith("tuple["):
        return [_position_one({**p, "type": kind[: kind.rindex("[")]}, x) for x in v]
    return v


@lru_cache(maxsize=64)
def selector(contract: str, name: str) -> bytes:
    """The 4-byte selector of `contract.name`, from its ABI entry."""
    return bytes(function_abi_to_4byte_selector(sdk.entry(contract, name)))  # type: ignore[arg-type]


def _call(contract: str, name: str, args: Sequence[Any]) -> bytes:
    inputs = sdk.entry(contract, name)["inputs"]
    return selector(contract, name) + encode(_types(inputs), list(args))


def decode_call(contract: str, name: str, data: bytes) -> dict[str, Any] | None:
    """The named arguments of a `contract.name` call; None when `data` is anything else."""
    if data[:4] != selector(contract, name):
        return None
    inputs = sdk.entry(contract, name)["inputs"]
    try:
        return _named(inputs, decode(_types(inputs), data[4:]))
    except (DecodingError, ValueError, OverflowError):
        return None


def _result(contract: str, name: str, result: bytes) -> dict[str, Any]:
    outputs = sdk.entry(contract, name)["outputs"]
    named = [{**o, "name": o["name"] or f"_{i}"} for i, o in enumerate(outputs)]
    return _named(named, decode(_types(outputs), result))


# -- ExchangeRouter ---------------------------------------------------------------------------

ROUTER = "ExchangeRouter"


def multicall(calls: list[bytes]) -> bytes:
    """`multicall(bytes[])`: the calls run in one transaction, in order."""
    return _call(ROUTER, "multicall", [calls])


def decode_multicall(data: bytes) -> list[bytes] | None:
    args = decode_call(ROUTER, "multicall", data)
    return None if args is None else [bytes(c) for c in args["data"]]


def send_wnt(receiver: str, amount: int) -> bytes:
    """`sendWnt`: wraps `amount` of the transaction's value and sends it (the fee)."""
    return _call(ROUTER, "sendWnt", [checksum(receiver), amount])


def send_tokens(token: str, receiver: str, amount: int) -> bytes:
    """`sendTokens`: the Router (SyntheticsRouter) pulls `amount` of `token` from the
    sender, who must have approved that router (not the ExchangeRouter)."""
    return _call(ROUTER, "sendTokens", [checksum(token), checksum(receiver), amount])


def create_order(params: Mapping[str, Any]) -> bytes:
    """`createOrder(CreateOrderParams)`, `params` keyed by the ABI's field names."""
    inputs = sdk.entry(ROUTER, "createOrder")["inputs"]
    return _call(ROUTER, "createOrder", _positional(inputs, {"params": params}))


def decode_create_order(data: bytes) -> dict[str, Any] | None:
    """The CreateOrderParams of a `createOrder` call, by the ABI's names; None otherwise."""
    args = decode_call(ROUTER, "createOrder", data)
    return None if args is None else dict(args["params"])


def cancel_order(key: bytes) -> bytes:
    return _call(ROUTER, "cancelOrder", [key])


# -- SubaccountRouter (a wallet's subaccount orders for it) -----------------------------------

SUBACCOUNT_ROUTER = "SubaccountRouter"


def subaccount_create_order(account: str, params: Mapping[str, Any]) -> bytes:
    """`SubaccountRouter.createOrder(account, CreateOrderParams)`: the order is the
    account's; the router pulls its collateral from the account (Router.pluginTransfer)."""
    inputs = sdk.entry(SUBACCOUNT_ROUTER, "createOrder")["inputs"]
    values = _positional(inputs, {"account": checksum(account), "params": params})
    return _call(SUBACCOUNT_ROUTER, "createOrder", values)


def decode_subaccount_create_order(data: bytes) -> dict[str, Any] | None:
    args = decode_call(SUBACCOUNT_ROUTER, "createOrder", data)
    return None if args is None else dict(args["params"])


def subaccount_cancel_order(key: bytes) -> bytes:
    return _call(SUBACCOUNT_ROUTER, "cancelOrder", [key])


def subaccount_call(name: str, *args: Any) -> bytes:
    """Any other SubaccountRouter call (the wallet's set-up: addSubaccount, …)."""
    return _call(SUBACCOUNT_ROUTER, name, list(args))


# -- SyntheticsReader -------------------------------------------------------------------------


@dataclass(frozen=True)
class GmxPosition:
    """One Position.Props (contracts/position/Position.sol) in GMX's units: USD with 30
    decimals, tokens in their own decimals."""

    account: str
    market: str
    collateral_token: str
    size_in_usd: int
    size_in_tokens: int
    collateral_amount: int
    is_long: bool


def get_account_positions(data_store: str, account: str, start: int, end: int) -> bytes:
    return _call(
        "SyntheticsReader",
        "getAccountPositions",
        [checksum(data_store), checksum(account), start, end],
    )


def decode_account_positions(result: bytes) -> list[GmxPosition]:
    (props,) = _result("SyntheticsReader", "getAccountPositions", result).values()
    return [
        GmxPosition(
            p["addresses"]["account"],
            p["addresses"]["market"],
            p["addresses"]["collateralToken"],
            int(p["numbers"]["sizeInUsd"]),
            int(p["numbers"]["sizeInTokens"]),
            int(p["numbers"]["collateralAmount"]),
            bool(p["flags"]["isLong"]),
        )
        for p in props
    ]


# -- DataStore --------------------------------------------------------------------------------


def key_of(name: str) -> bytes:
    """A DataStore key as Keys.sol builds it: keccak256(abi.encode(name))."""
    return bytes(keccak(encode(["string"], [name])))


def get_uint(key: bytes) -> bytes:
    return _call("DataStore", "getUint", [key])


def decode_uint(result: bytes) -> int:
    (value,) = _result("DataStore", "getUint", result).values()
    return int(value)


# -- the collateral token (ERC20, the SDK's `Token` ABI) -------------------------------------

TOKEN = "Token"


def balance_of(account: str) -> bytes:
    return _call(TOKEN, "balanceOf", [checksum(account)])


def allowance(owner: str, spender: str) -> bytes:
    return _call(TOKEN, "allowance", [checksum(owner), checksum(spender)])


def approve(spender: str, amount: int) -> bytes:
    return _call(TOKEN, "approve", [checksum(spender), amount])


def decode_amount(name: str, result: bytes) -> int:
    """The uint256 a Token view (`balanceOf`, `allowance`) returned."""
    (value,) = _result(TOKEN, name, result).values()
    return int(value)
