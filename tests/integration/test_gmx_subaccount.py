"""GMX subaccounts on the local venue, driven with the SDK's own SubaccountRouter, DataStore
and CustomErrors ABIs: a wallet lets a second key create and cancel orders for it within a
lifetime number of actions and until an expiry. The order is the wallet's, its collateral
comes from the wallet, the subaccount pays the execution fee; every action counts one;
exhausted, expired (unset = expired), revoked and a receiver other than the wallet are
refused with GMX's errors."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from eth_abi import decode, encode
from eth_utils import keccak

from core.adapters.gmx import local
from core.adapters.gmx import subaccounts as standing
from core.adapters.signers.local import LocalSigner
from core.domain.subaccounts import EXHAUSTED, NOT_AUTHORIZED, SubaccountTerms, refusal
from tests.support.chain import set_balance
from tests.support.localgmx import (
    ABIS,
    CHAIN_ID,
    FEE,
    MARKET_INCREASE,
    W3,
    World,
    one,
    order_params,
    revert_data,
    selector,
    send_with_value,
    usdc_balance,
)

SUBACCOUNT = W3.eth.contract(abi=ABIS["SubaccountRouter"])
DATA_STORE = W3.eth.contract(abi=ABIS["DataStore"])
COLLATERAL = 100 * 10**6


def key(name: str) -> bytes:
    return bytes(keccak(encode(["string"], [name])))


ORDER_ACTION = key("SUBACCOUNT_ORDER_ACTION")


def action_key(name: str, account: str, subaccount: str) -> bytes:
    """Keys.sol: keccak256(abi.encode(NAME, account, subaccount, actionType))."""
    return bytes(
        keccak(
            encode(
                ["bytes32", "address", "address", "bytes32"],
                [key(name), account, subaccount, ORDER_ACTION],
            )
        )
    )


def call(contract: Any, name: str, *args: Any) -> bytes:
    return bytes.fromhex(contract.encode_abi(name, args=list(args))[2:])


def multicall(*calls: bytes) -> bytes:
    return call(SUBACCOUNT, "multicall", list(calls))


def read_uint(world: World, k: bytes) -> int:
    (value,) = decode(
        ["uint256"], world.chain.call(world.gmx.data_store, call(DATA_STORE, "getUint", k))
    )
    return int(value)


def now(world: World) -> int:
    return int(world.chain.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)


def fresh_key(world: World) -> LocalSigner:
    signer = LocalSigner.from_key("0x" + secrets.token_hex(32))
    set_balance(world.chain, signer.address, 10 * 10**18)
    return signer


@pytest.fixture
def pair(world: World, follower: LocalSigner) -> tuple[LocalSigner, LocalSigner]:
    """The wallet (USDC, the Router approved) and a fresh subaccount key with gas money."""
    return follower, fresh_key(world)


def set_up(
    world: World, wallet: LocalSigner, sub: str, max_actions: int, expires_at: int | None
) -> None:
    """The wallet's one-time calls, in one multicall."""
    calls = [
        call(SUBACCOUNT, "addSubaccount", sub),
        call(SUBACCOUNT, "setMaxAllowedSubaccountActionCount", sub, ORDER_ACTION, max_actions),
    ]
    if expires_at is not None:
        calls.append(call(SUBACCOUNT, "setSubaccountExpiresAt", sub, ORDER_ACTION, expires_at))
    send_with_value(world.chain, wallet, world.gmx.subaccount_router, multicall(*calls), 0)


def open_request(world: World, wallet: str, receiver: str | None = None) -> bytes:
    params = order_params(
        world.gmx, receiver or wallet, MARKET_INCREASE, 500, COLLATERAL, 3_100 * 10**6
    )
    return multicall(
        call(SUBACCOUNT, "sendWnt", world.gmx.order_vault, FEE),
        call(SUBACCOUNT, "createOrder", wallet, params),
    )


def terms(world: World, wallet: str, sub: str) -> SubaccountTerms:
    """What copytrade reads before an order (core/adapters/gmx/subaccounts.py)."""
    calls = standing.terms_calls(world.gmx.data_store, wallet, sub)
    return standing.decode_terms(world.chain.calls(calls))


def refused(world: World, sub: LocalSigner, data: bytes) -> tuple[bytes, bytes]:
    """The revert's selector and arguments of the subaccount's call."""
    raw = revert_data(world.url, sub.address, world.gmx.subaccount_router, data, FEE)
    return raw[:4], raw[4:]


def test_the_subaccount_orders_for_the_wallet_with_the_wallet_s_collateral(
    world: World, pair: tuple[LocalSigner, LocalSigner], restore_expiry: None
) -> None:
    wallet, sub = pair
    set_up(world, wallet, sub.address, 5, now(world) + 3600)
    usdc_before = usdc_balance(world.chain, world.gmx, wallet.address)
    receipt = send_with_value(
        world.chain, sub, world.gmx.subaccount_router, open_request(world, wallet.address), FEE
    )
    created = one(receipt, world.gmx, "OrderCreated")
    assert created.items["address"]["account"].lower() == wallet.address.lower()
    assert created.items["address"]["receiver"].lower() == wallet.address.lower()
    assert usdc_balance(world.chain, world.gmx, wallet.address) == usdc_before - COLLATERAL
    assert usdc_balance(world.chain, world.gmx, sub.address) == 0
    count = action_key("SUBACCOUNT_ACTION_COUNT", wallet.address, sub.address)
    assert read_uint(world, count) == 1
    expires_at = read_uint(world, action_key("SUBACCOUNT_EXPIRES_AT", wallet.address, sub.address))
    assert terms(world, wallet.address, sub.address) == SubaccountTerms(True, 1, 5, expires_at)
    assert (
        read_uint(
            world, action_key("MAX_ALLOWED_SUBACCOUNT_ACTION_COUNT", wallet.address, sub.address)
        )
        == 5
    )

    # A cancel is an action too (the request may be cancelled at once here).
    order_key = bytes.fromhex(created.topic1[2:])
    local.set_uint(world.chain, world.deployer, CHAIN_ID, world.gmx, "REQUEST_EXPIRATION_TIME", 0)
    cancel = multicall(call(SUBACCOUNT, "cancelOrder", order_key))
    send_with_value(world.chain, sub, world.gmx.subaccount_router, cancel, 0)
    assert read_uint(world, count) == 2
    assert usdc_balance(world.chain, world.gmx, wallet.address) == usdc_before  # refunded


def test_the_lifetime_budget_runs_out(world: World, pair: tuple[LocalSigner, LocalSigner]) -> None:
    wallet, sub = pair
    set_up(world, wallet, sub.address, 1, now(world) + 3600)
    send_with_value(
        world.chain, sub, world.gmx.subaccount_router, open_request(world, wallet.address), FEE
    )
    assert refusal(terms(world, wallet.address, sub.address), now(world)) == EXHAUSTED
    sel, args = refused(world, sub, open_request(world, wallet.address))
    assert sel == selector("MaxSubaccountActionCountExceeded")
    assert decode(["address", "address", "uint256", "uint256"], args)[2:] == (2, 1)


@pytest.mark.parametrize("expiry", ["past", "unset"])
def test_an_expired_or_never_dated_approval_is_refused(
    world: World, pair: tuple[LocalSigner, LocalSigner], expiry: str
) -> None:
    wallet, sub = pair
    expires_at = now(world) - 1 if expiry == "past" else None
    set_up(world, wallet, sub.address, 5, expires_at)
    sel, args = refused(world, sub, open_request(world, wallet.address))
    assert sel == selector("SubaccountApprovalExpired")
    assert decode(["address", "address", "uint256", "uint256"], args)[2] == (expires_at or 0)


def test_a_revoked_or_never_added_subaccount_is_not_authorised(
    world: World, pair: tuple[LocalSigner, LocalSigner]
) -> None:
    wallet, sub = pair
    stranger = fresh_key(world)
    sel, _ = refused(world, stranger, open_request(world, wallet.address))
    assert sel == selector("SubaccountNotAuthorized")
    set_up(world, wallet, sub.address, 5, now(world) + 3600)
    send_with_value(
        world.chain,
        wallet,
        world.gmx.subaccount_router,
        multicall(call(SUBACCOUNT, "removeSubaccount", sub.address)),
        0,
    )
    assert refusal(terms(world, wallet.address, sub.address), now(world)) == NOT_AUTHORIZED
    sel, args = refused(world, sub, open_request(world, wallet.address))
    assert sel == selector("SubaccountNotAuthorized")
    assert [a.lower() for a in decode(["address", "address"], args)] == [
        wallet.address.lower(),
        sub.address.lower(),
    ]


def test_an_order_paying_anyone_but_the_wallet_is_refused(
    world: World, pair: tuple[LocalSigner, LocalSigner]
) -> None:
    wallet, sub = pair
    set_up(world, wallet, sub.address, 5, now(world) + 3600)
    sel, args = refused(world, sub, open_request(world, wallet.address, receiver=sub.address))
    assert sel == selector("InvalidReceiverForSubaccountOrder")
    assert [a.lower() for a in decode(["address", "address"], args)] == [
        sub.address.lower(),
        wallet.address.lower(),
    ]
