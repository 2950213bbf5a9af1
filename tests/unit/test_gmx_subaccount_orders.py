"""A GMX subaccount's orders, offline: the SubaccountRouter's multicall for the wallet (the
fee from the subaccount's value, no sendTokens: the router pulls the wallet's collateral),
where each calldata goes (a replacement or re-sign goes where the first went), the
subaccount's cancel, the DataStore reads, the wallet's set-up calls, and GMX's errors read
back as our reasons. Selectors against signatures written out by hand."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, keccak
from eth_utils import to_checksum_address as checksum

from core.adapters.gmx import codec
from core.adapters.gmx import subaccounts as gmx_subaccounts
from core.adapters.gmx.venue import GmxVenue
from core.domain import subaccounts
from core.domain.errors import ConfigError
from core.domain.types import Action
from tests.unit.test_gmx_codec import CFG, CREATE_ORDER_PARAMS, FEE, VENUE, order

WALLET = checksum("0x" + "ab" * 20)
SUB = checksum("0x" + "cd" * 20)
KEY = "0x" + "5e" * 32


def sel(signature: str) -> bytes:
    return bytes(function_signature_to_4byte_selector(signature))


def inner(calldata: bytes) -> list[bytes]:
    calls = codec.decode_multicall(calldata)
    assert calls is not None
    return calls


def test_the_sdk_s_subaccount_router_selectors_are_gmx_s_signatures() -> None:
    for name, signature in (
        ("createOrder", f"createOrder(address,{CREATE_ORDER_PARAMS})"),
        ("cancelOrder", "cancelOrder(bytes32)"),
        ("multicall", "multicall(bytes[])"),
        ("sendWnt", "sendWnt(address,uint256)"),
        ("addSubaccount", "addSubaccount(address)"),
        ("removeSubaccount", "removeSubaccount(address)"),
        (
            "setMaxAllowedSubaccountActionCount",
            "setMaxAllowedSubaccountActionCount(address,bytes32,uint256)",
        ),
        ("setSubaccountExpiresAt", "setSubaccountExpiresAt(address,bytes32,uint256)"),
    ):
        assert codec.selector(codec.SUBACCOUNT_ROUTER, name) == sel(signature), name


@pytest.mark.parametrize("action", [Action.OPEN, Action.INCREASE])
def test_an_increase_by_a_subaccount_is_the_fee_then_the_wallet_s_order_without_send_tokens(
    action: Action,
) -> None:
    data = VENUE.encode_order(order(action, account=WALLET, by_subaccount=True))
    send_wnt, create = inner(data)
    assert send_wnt == codec.send_wnt(CFG.order_vault, FEE)  # the subaccount's own value
    assert create[:4] == sel(f"createOrder(address,{CREATE_ORDER_PARAMS})")
    args = codec.decode_call(codec.SUBACCOUNT_ROUTER, "createOrder", create)
    assert args is not None
    assert args["account"] == WALLET
    p = args["params"]
    assert p["addresses"]["receiver"] == WALLET  # GMX requires the wallet
    assert p["addresses"]["cancellationReceiver"] == WALLET
    assert p["numbers"]["initialCollateralDeltaAmount"] == 250_500000  # pulled by the router
    assert VENUE.order_value(data) == FEE
    assert VENUE.order_to(data) == CFG.subaccount_router
    back = VENUE.decode_order(data)
    assert back is not None
    assert back.account == WALLET
    assert back.collateral_usd_1e6 == 250_500000


def test_the_same_order_by_the_wallet_s_own_key_goes_to_the_exchange_router() -> None:
    own = VENUE.encode_order(order(account=WALLET))
    assert len(inner(own)) == 3  # sendWnt, sendTokens, createOrder
    assert VENUE.order_to(own) == CFG.exchange_router
    by_sub = VENUE.encode_order(order(account=WALLET, by_subaccount=True))
    assert VENUE.decode_order(own) == VENUE.decode_order(by_sub)  # the same order, decoded


def test_a_close_by_a_subaccount_is_the_wallet_s_decrease() -> None:
    data = VENUE.encode_order(
        order(Action.CLOSE, account=WALLET, by_subaccount=True, close_size=10**33)
    )
    _, create = inner(data)
    args = codec.decode_call(codec.SUBACCOUNT_ROUTER, "createOrder", create)
    assert args is not None
    assert args["params"]["numbers"]["sizeDeltaUsd"] == 10**33
    assert args["params"]["orderType"] == codec.MARKET_DECREASE
    assert VENUE.order_to(data) == CFG.subaccount_router


def test_a_subaccount_s_cancel_goes_to_its_router_and_the_wallet_s_to_the_exchange_router() -> None:
    own = VENUE.cancel_request(KEY)
    by_sub = VENUE.cancel_request(KEY, by_subaccount=True)
    assert own == sel("cancelOrder(bytes32)") + bytes.fromhex(KEY[2:])  # a bare call
    assert inner(by_sub) == [own]  # the same call, in the subaccount router's multicall
    assert VENUE.order_to(own) == CFG.exchange_router
    assert VENUE.order_to(by_sub) == CFG.subaccount_router
    assert VENUE.order_value(by_sub) == 0


def test_a_subaccount_order_without_a_configured_subaccount_router_is_a_config_error() -> None:
    venue = GmxVenue(replace(CFG, subaccount_router=""))
    with pytest.raises(ConfigError, match="subaccount_router"):
        venue.encode_order(order(account=WALLET, by_subaccount=True))
    with pytest.raises(ConfigError, match="subaccount_router"):
        venue.cancel_request(KEY, by_subaccount=True)
    assert venue.order_to(venue.encode_order(order(account=WALLET))) == CFG.exchange_router


def test_the_sdk_gives_the_subaccount_router_on_arbitrum() -> None:
    assert CFG.subaccount_router == "0xdD00F639725E19a209880A44962Bc93b51B1B161"


def test_the_standing_reads_are_gmx_s_keys_in_one_batch() -> None:
    calls = VENUE.subaccount_calls(WALLET, SUB)
    assert [c.to for c in calls] == [CFG.data_store] * 4
    assert calls[0].data[:4] == sel("containsAddress(bytes32,address)")
    assert all(c.data[:4] == sel("getUint(bytes32)") for c in calls[1:])


def test_the_wallet_s_setup_is_one_multicall_of_add_budget_and_expiry() -> None:
    (call,) = VENUE.subaccount_setup_calls(SUB, 100, 1_900_000_000)
    assert call.to == CFG.subaccount_router
    add, budget, expiry = inner(call.data)
    assert add == sel("addSubaccount(address)") + bytes(12) + bytes.fromhex(SUB[2:])
    action = gmx_subaccounts.ORDER_ACTION
    assert budget[:4] == sel("setMaxAllowedSubaccountActionCount(address,bytes32,uint256)")
    assert decode(["address", "bytes32", "uint256"], budget[4:]) == (SUB.lower(), action, 100)
    assert decode(["address", "bytes32", "uint256"], expiry[4:]) == (
        SUB.lower(),
        action,
        1_900_000_000,
    )
    # Keys.sol: keccak256(abi.encode("SUBACCOUNT_ORDER_ACTION")), the encoding by hand
    # (offset 0x20, length 23, the bytes padded to 32)
    name = b"SUBACCOUNT_ORDER_ACTION"
    by_hand = (32).to_bytes(32, "big") + len(name).to_bytes(32, "big") + name.ljust(32, b"\0")
    assert action == keccak(by_hand)


@pytest.mark.parametrize(
    ("message", "want"),
    [
        ("SubaccountNotAuthorized(account=0xab, subaccount=0xcd)", subaccounts.NOT_AUTHORIZED),
        ("SubaccountApprovalExpired(account=0xab, …)", subaccounts.EXPIRED),
        ("MaxSubaccountActionCountExceeded(count=6, maxCount=5)", subaccounts.EXHAUSTED),
        ("OrderNotFulfillableAtAcceptablePrice(…)", None),
        ("execution reverted", None),
    ],
)
def test_gmx_s_subaccount_errors_read_as_our_reasons(message: str, want: str | None) -> None:
    got = subaccounts.venue_reason(message)
    assert got == (None if want is None else f"{want}: {message}")
