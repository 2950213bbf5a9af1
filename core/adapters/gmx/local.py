"""Dev-chain administration of the local GMX v2-compatible venue (contracts/LocalGmx.sol):
deploy and wire it, fund and approve followers, act as its keeper, read positions. Used by
the tests, the demo and a dev keeper; not the order path (that speaks GMX's own ABI)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from core.adapters.chain import Chain
from core.adapters.venue_admin import send_and_wait
from core.domain import fees
from core.domain.attempts import TxSpec
from core.domain.errors import ChainError
from core.ports import Signer

BUILD = Path(__file__).resolve().parents[3] / "contracts" / "build"
SOURCE = "LocalGmx.sol"
DEFAULT_MARKETS: Mapping[str, int] = {"ETH": 18, "BTC": 8}
USDC_DECIMALS = 6
# GMX prices: USD with 30 decimals per smallest unit of the token.
PRICE_DECIMALS = 30
DEPLOY_GAS = 8_000_000
ADMIN_GAS = 300_000
KEEPER_GAS = 2_000_000
# The local reader finds the order handler under this DataStore key (not a GMX key).
ORDER_HANDLER_KEY_NAME = "LOCAL_GMX_ORDER_HANDLER"
_PLACEHOLDER = re.compile(r"__\$[0-9a-f]{34}\$__")
_POSITION = "((address,address,address),(uint256,uint256,uint256,int256,uint256,uint256,uint256,uint256,uint256,uint256),(bool))"  # noqa: E501


@dataclass(frozen=True)
class LocalGmx:
    """Addresses of one deployment. `markets`: asset symbol -> market address;
    `index_decimals`: asset symbol -> the index token's decimals. `order_handler` holds the
    orders and positions and takes the keeper's calls."""

    exchange_router: str
    router: str
    order_vault: str
    reader: str
    data_store: str
    event_emitter: str
    usdc: str
    wnt: str
    order_handler: str
    markets: dict[str, str]
    index_decimals: dict[str, int]
    subaccount_router: str = ""  # GMX's SubaccountRouter (contracts/LocalGmxSubaccount.sol)


@cache
def artifact(name: str) -> dict[str, Any]:
    """contracts/build/<name>.json (abi, bytecode) as `node scripts/compile_contracts.js`
    wrote it."""
    data: dict[str, Any] = json.loads((BUILD / f"{name}.json").read_text())
    return data


def data_store_key(name: str) -> bytes:
    """GMX's Keys.sol: keccak256(abi.encode("NAME"))."""
    return keccak(encode(["string"], [name]))


def position_key(account: str, market: str, collateral_token: str, is_long: bool) -> bytes:
    """GMX's Position.getPositionKey."""
    return keccak(
        encode(
            ["address", "address", "address", "bool"], [account, market, collateral_token, is_long]
        )
    )


def gmx_price(price_usd_1e6: int, index_decimals: int) -> int:
    """Micro-USD per whole token -> GMX's 30-decimal USD price per smallest token unit."""
    exponent = PRICE_DECIMALS - USDC_DECIMALS - index_decimals
    if exponent < 0:
        raise ValueError(f"index decimals {index_decimals} > 24: the price is not exact")
    scale: int = 10**exponent
    price = price_usd_1e6 * scale
    assert price // scale == price_usd_1e6
    return price


def calldata(signature: str, *args: Any) -> bytes:
    """`signature` like "mint(address,uint256)"; args in its order."""
    types = _split_types(signature[signature.index("(") + 1 : -1])
    return function_signature_to_4byte_selector(signature) + encode(types, list(args))


def _split_types(inner: str) -> list[str]:
    """Top-level comma split of a parameter list (tuples kept whole)."""
    out: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(inner):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(inner[start:i])
            start = i + 1
    if inner:
        out.append(inner[start:])
    return out


def _link(bytecode: str, libraries: Mapping[str, str]) -> str:
    """Replace solc's `__$<34 hex>$__` placeholders (keccak of "file:Library")."""
    for name, address in libraries.items():
        mark = "__$" + keccak(text=f"{SOURCE}:{name}").hex()[:34] + "$__"
        bytecode = bytecode.replace(mark, address[2:].lower())
    if _PLACEHOLDER.search(bytecode):
        raise ValueError("bytecode has an unlinked library")
    return bytecode


def _deploy(
    chain: Chain,
    signer: Signer,
    chain_id: int,
    name: str,
    types: Sequence[str] = (),
    args: Sequence[Any] = (),
    libraries: Mapping[str, str] | None = None,
) -> str:
    code = _link(artifact(name)["bytecode"][2:], libraries or {})
    data = bytes.fromhex(code) + encode(list(types), list(args))
    _, raw = send_and_wait(chain, signer, chain_id, None, data, gas=DEPLOY_GAS)
    return to_checksum_address(str(raw["contractAddress"]))


def _send(
    chain: Chain, signer: Signer, chain_id: int, to: str, data: bytes, gas: int = ADMIN_GAS
) -> dict[str, Any]:
    _, raw = send_and_wait(chain, signer, chain_id, to, data, gas=gas)
    return dict(raw)


def deploy_local_gmx(
    chain: Chain,
    signer: Signer,
    chain_id: int,
    markets: Mapping[str, int] = DEFAULT_MARKETS,
    keeper: str | None = None,
) -> LocalGmx:
    """Deploy every contract, wire the roles (emitter and vault controllers, router plugin,
    keeper — default: the deployer) and register one market per asset (index token: WNT for
    an 18-decimal ETH, else a fresh token of those decimals; long token = index token; USDC
    the short token and the only collateral)."""

    def deploy(name: str, types: Sequence[str] = (), args: Sequence[Any] = ()) -> str:
        return _deploy(chain, signer, chain_id, name, types, args)

    def send(to: str, signature: str, *args: Any) -> None:
        _send(chain, signer, chain_id, to, calldata(signature, *args))

    token_types = ["string", "string", "uint8"]
    usdc = deploy("GmxToken", token_types, ["USD Coin", "USDC", USDC_DECIMALS])
    wnt = deploy("GmxWnt")
    data_store = deploy("GmxDataStore")
    emitter = deploy("GmxEventEmitter")
    router = deploy("GmxRouter")
    vault = deploy("GmxOrderVault", ["address"], [wnt])
    event_utils = deploy("GmxEventUtils")
    handler = _deploy(
        chain,
        signer,
        chain_id,
        "GmxOrderHandler",
        ["address", "address", "address"],
        [data_store, emitter, vault],
        {"GmxEventUtils": event_utils},
    )
    exchange_router = deploy("GmxExchangeRouter", ["address", "address"], [router, handler])
    subaccount_router = deploy("GmxSubaccountRouter", ["address", "address"], [router, handler])
    reader = deploy("GmxReader")

    send(emitter, "setController(address,bool)", handler, True)
    send(vault, "setController(address,bool)", handler, True)
    send(handler, "setController(address,bool)", exchange_router, True)
    send(router, "setPlugin(address,bool)", exchange_router, True)
    # The subaccount router: orders for an account, its collateral pulled from the account,
    # the subaccount's authorisation, count and expiry in the DataStore (GMX's roles).
    send(handler, "setController(address,bool)", subaccount_router, True)
    send(router, "setPlugin(address,bool)", subaccount_router, True)
    send(data_store, "setController(address,bool)", subaccount_router, True)
    send(handler, "setKeeper(address,bool)", keeper or signer.address, True)
    send(data_store, "setAddress(bytes32,address)", data_store_key(ORDER_HANDLER_KEY_NAME), handler)
    send(data_store, "setAddress(bytes32,address)", data_store_key("WNT"), wnt)

    market_addresses: dict[str, str] = {}
    for asset, decimals in markets.items():
        index = (
            wnt
            if asset in ("ETH", "WETH") and decimals == 18
            else deploy("GmxToken", token_types, [f"Local {asset}", asset, decimals])
        )
        market = deploy("GmxToken", token_types, [f"GMX Market {asset}/USD", "GM", 18])
        send(
            handler,
            "addMarket(address,address,uint8,address,address)",
            market,
            index,
            decimals,
            index,
            usdc,
        )
        market_addresses[asset] = market
    return LocalGmx(
        exchange_router=exchange_router,
        router=router,
        order_vault=vault,
        reader=reader,
        data_store=data_store,
        event_emitter=emitter,
        usdc=usdc,
        wnt=wnt,
        order_handler=handler,
        markets=market_addresses,
        index_decimals=dict(markets),
        subaccount_router=subaccount_router,
    )


def fund_usdc(
    chain: Chain, signer: Signer, chain_id: int, gmx: LocalGmx, to: str, amount: int
) -> None:
    """Mint `amount` (6 decimals) of the mock USDC to `to` (anyone may mint: dev only)."""
    _send(chain, signer, chain_id, gmx.usdc, calldata("mint(address,uint256)", to, amount))


def approve_usdc(
    chain: Chain, follower_signer: Signer, chain_id: int, gmx: LocalGmx, amount: int
) -> None:
    """The follower approves the GmxRouter (GMX's Router) for `amount` of USDC."""
    data = calldata("approve(address,uint256)", gmx.router, amount)
    _send(chain, follower_signer, chain_id, gmx.usdc, data)


def keeper_execute(
    chain: Chain,
    keeper_signer: Signer,
    chain_id: int,
    gmx: LocalGmx,
    key: bytes,
    price_usd_1e6: int,
    asset: str,
) -> dict[str, Any]:
    """Execute order `key` at `price_usd_1e6` per whole `asset`; returns the raw receipt.
    An order that cannot be filled is cancelled by the venue (its receipt has
    OrderCancelled), not reverted."""
    data = execute_calldata(gmx, key, price_usd_1e6, asset)
    return _send(chain, keeper_signer, chain_id, gmx.order_handler, data, gas=KEEPER_GAS)


def execute_calldata(gmx: LocalGmx, key: bytes, price_usd_1e6: int, asset: str) -> bytes:
    """OrderHandler.executeOrder(key, price) at `price_usd_1e6` per whole `asset`."""
    price = gmx_price(price_usd_1e6, gmx.index_decimals[asset])
    return calldata("executeOrder(bytes32,uint256)", key, price)


def keeper_forced_decrease(
    chain: Chain,
    keeper_signer: Signer,
    chain_id: int,
    gmx: LocalGmx,
    account: str,
    asset: str,
    is_long: bool,
    price_usd_1e6: int,
    size_delta_raw: int = 0,
    adl: bool = False,
) -> dict[str, Any]:
    """The keeper liquidates `account`'s USDC-collateral position (`adl` False: all of it,
    orderType Liquidation) or auto-deleverages `size_delta_raw` of it (`adl` True:
    secondaryOrderType Adl); returns the raw receipt."""
    price = gmx_price(price_usd_1e6, gmx.index_decimals[asset])
    sig = "executeForcedDecrease(address,address,address,bool,uint256,uint256,bool)"
    args = (account, gmx.markets[asset], gmx.usdc, is_long, size_delta_raw, price, adl)
    data = calldata(sig, *args)
    return _send(chain, keeper_signer, chain_id, gmx.order_handler, data, gas=KEEPER_GAS)


def cancel_calldata(key: bytes, reason: str) -> bytes:
    """OrderHandler.cancelOrderByKeeper(key, reason)."""
    return calldata("cancelOrderByKeeper(bytes32,string)", key, reason)


def keeper_cancel(
    chain: Chain, keeper_signer: Signer, chain_id: int, gmx: LocalGmx, key: bytes, reason: str
) -> dict[str, Any]:
    """Cancel order `key` as the keeper (collateral and fee back to the account)."""
    data = cancel_calldata(key, reason)
    return _send(chain, keeper_signer, chain_id, gmx.order_handler, data, gas=KEEPER_GAS)


def pending_orders(chain: Chain, gmx: LocalGmx) -> list[bytes]:
    """Keys of the orders neither executed nor cancelled (in no particular order)."""
    (count,) = decode(["uint256"], chain.call(gmx.order_handler, calldata("getOrderCount()")))
    raw = chain.call(gmx.order_handler, calldata("getOrderKeys(uint256,uint256)", 0, count))
    (keys,) = decode(["bytes32[]"], raw)
    return list(keys)


def set_uint(
    chain: Chain, signer: Signer, chain_id: int, gmx: LocalGmx, key_name: str, value: int
) -> None:
    """DataStore.setUint(keccak256(abi.encode(key_name)), value), e.g.
    "REQUEST_EXPIRATION_TIME" (seconds)."""
    data = calldata("setUint(bytes32,uint256)", data_store_key(key_name), value)
    _send(chain, signer, chain_id, gmx.data_store, data)


def get_uint(chain: Chain, gmx: LocalGmx, key_name: str) -> int:
    raw = chain.call(gmx.data_store, calldata("getUint(bytes32)", data_store_key(key_name)))
    (value,) = decode(["uint256"], raw)
    return int(value)


def position(
    chain: Chain, gmx: LocalGmx, account: str, asset: str, is_long: bool
) -> tuple[int, int, int]:
    """(sizeInUsd (30 decimals), sizeInTokens, collateralAmount (USDC units)) through the
    reader; zeros when there is none."""
    key = position_key(account, gmx.markets[asset], gmx.usdc, is_long)
    raw = chain.call(gmx.reader, calldata("getPosition(address,bytes32)", gmx.data_store, key))
    (props,) = decode([_POSITION], raw)
    numbers = props[1]
    return int(numbers[0]), int(numbers[1]), int(numbers[2])


def fund_followers(
    chain: Chain,
    deployer: Signer,
    chain_id: int,
    gmx: LocalGmx,
    followers: Sequence[Signer],
    usdc: int,
    timeout_s: float = 60,
) -> None:
    """Mint `usdc` to each follower and have each approve the GmxRouter for all it holds:
    every transaction signed first and sent in one batch, then waited for (a dev stack
    mining on a timer funds a hundred followers in a few blocks, not a few hundred)."""
    base, rewards = chain.fee_history()
    fee = fees.suggest(base, rewards)
    nonce = chain.nonce(deployer.address, "pending")
    signed = []
    for i, f in enumerate(followers):
        mint = calldata("mint(address,uint256)", f.address, usdc)
        spec = TxSpec(chain_id, nonce + i, fee, gmx.usdc, mint, ADMIN_GAS)
        signed.append(deployer.sign_transaction(spec.as_dict()))
        approve = calldata("approve(address,uint256)", gmx.router, usdc)
        own = chain.nonce(f.address, "pending")
        signed.append(
            f.sign_transaction(TxSpec(chain_id, own, fee, gmx.usdc, approve, ADMIN_GAS).as_dict())
        )
    outcomes = chain.send_raw([s.raw for s in signed])
    refused = [o.message for o in outcomes if not o.accepted]
    if refused:
        raise ChainError(f"funding refused: {refused[0]}")
    hashes = [s.tx_hash for s in signed]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = chain.receipts(hashes)
        if len(found) == len(hashes):
            if any(r.status != 1 for r in found.values()):
                raise ChainError("a funding transaction reverted")
            return
        time.sleep(0.1)
    raise ChainError(f"funding not mined within {timeout_s}s")


def settings_for(gmx: LocalGmx) -> dict[str, str]:
    """The COPYTRADE_* settings that point copytrade at this local deployment."""
    contracts = {
        "exchange_router": gmx.exchange_router,
        "router": gmx.router,
        "order_vault": gmx.order_vault,
        "reader": gmx.reader,
        "data_store": gmx.data_store,
        "event_emitter": gmx.event_emitter,
        "usdc": gmx.usdc,
        "subaccount_router": gmx.subaccount_router,
    }
    markets = {
        a: {"market": m, "index_decimals": gmx.index_decimals[a]} for a, m in gmx.markets.items()
    }
    return {
        "COPYTRADE_VENUE": "gmx",
        "COPYTRADE_GMX_CONTRACTS": json.dumps(contracts),
        "COPYTRADE_GMX_MARKETS": json.dumps(markets),
    }
