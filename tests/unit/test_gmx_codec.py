"""GMX v2 codec and venue, offline: calldata round trips, selectors against canonical
signatures written out by hand (tests/unit/gmx_canon.py), unit conversions checked with
Fraction, positions decoded from the reader's answer."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from core.adapters.gmx import codec, events, sdk
from core.adapters.gmx.config import GmxConfig
from core.adapters.gmx.venue import GmxVenue
from core.domain.errors import ConfigError, RejectedSignal
from core.domain.types import Action
from core.domain.venue import Call, OrderCall, Position
from tests.unit.gmx_canon import (
    ACCOUNT,
    BTC_MARKET,
    CFG,
    COID,
    CREATE_ORDER_PARAMS,
    ETH_MARKET,
    EVENT_LOG1,
    EVENT_LOG2,
    FEE,
    KEY,
    POSITION_PROPS,
    VENUE,
    gmx_price,
    order,
    sel,
    topic,
)

# -- selectors, topics, keys ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contract", "name", "signature"),
    [
        ("ExchangeRouter", "multicall", "multicall(bytes[])"),
        ("ExchangeRouter", "sendWnt", "sendWnt(address,uint256)"),
        ("ExchangeRouter", "sendTokens", "sendTokens(address,address,uint256)"),
        ("ExchangeRouter", "cancelOrder", "cancelOrder(bytes32)"),
        ("ExchangeRouter", "createOrder", f"createOrder({CREATE_ORDER_PARAMS})"),
        (
            "SyntheticsReader",
            "getAccountPositions",
            "getAccountPositions(address,address,uint256,uint256)",
        ),
        ("DataStore", "getUint", "getUint(bytes32)"),
    ],
)
def test_selectors_from_the_sdk_abi_match_the_canonical_signatures(
    contract: str, name: str, signature: str
) -> None:
    assert codec.selector(contract, name) == sel(signature)


def test_multicall_selector_is_the_well_known_one() -> None:
    assert VENUE.order_selector.hex() == "ac9650d8"


def test_event_topics_match_the_canonical_signatures() -> None:
    assert events.event_topic("EventLog1") == topic(EVENT_LOG1)
    assert events.event_topic("EventLog2") == topic(EVENT_LOG2)
    assert VENUE.orders_filter().topics[0] == topic(EVENT_LOG2)


def test_datastore_key_is_keccak_of_the_abi_encoded_name() -> None:
    name = b"MIN_COLLATERAL_USD"
    by_hand = (
        (32).to_bytes(32, "big") + len(name).to_bytes(32, "big") + name.ljust(32, b"\0")
    )  # abi.encode(string): offset, length, padded bytes
    assert codec.key_of("MIN_COLLATERAL_USD") == keccak(by_hand)
    assert codec.get_uint(keccak(by_hand)) == sel("getUint(bytes32)") + keccak(by_hand)


def test_for_chain_takes_the_pinned_addresses_and_unknown_chains_raise() -> None:
    assert CFG.exchange_router == "0x1C3fa76e6E1088bCE750f23a5BFcffa1efEF6A41"
    assert CFG.order_vault == "0x31eF83a530Fde1B38EE9A18093A333D8Bbbc40D5"
    assert CFG.usdc == "0xaf88d065e77c8cC2239327C5EDb3A432268e5831"
    assert CFG.usdc_decimals == 6
    assert GmxConfig.for_chain(43114, {}).event_emitter == sdk.addresses(43114)["EventEmitter"]
    with pytest.raises(ConfigError, match="chain 1 "):
        GmxConfig.for_chain(1, {})


# -- orders -----------------------------------------------------------------------------------


def calls_of(data: bytes) -> list[bytes]:
    calls = codec.decode_multicall(data)
    assert calls is not None
    return calls


def test_an_open_sends_the_fee_then_the_collateral_then_a_market_increase() -> None:
    o = order()
    fee_call, tokens_call, create = calls_of(VENUE.encode_order(o))
    vault = CFG.order_vault
    assert fee_call == sel("sendWnt(address,uint256)") + encode(
        ["address", "uint256"], [vault, FEE]
    )
    assert tokens_call == sel("sendTokens(address,address,uint256)") + encode(
        ["address", "address", "uint256"], [CFG.usdc, vault, 250_500000]
    )
    p = codec.decode_create_order(create)
    assert p is not None
    assert p["orderType"] == 2  # Order.OrderType.MarketIncrease
    assert p["decreasePositionSwapType"] == 0
    assert p["addresses"]["receiver"] == p["addresses"]["cancellationReceiver"] == o.account
    assert p["addresses"]["market"] == ETH_MARKET
    assert p["addresses"]["initialCollateralToken"] == CFG.usdc
    assert p["addresses"]["swapPath"] == []
    n = p["numbers"]
    assert n["sizeDeltaUsd"] == int(Fraction(250_500000, 10**6) * 5 * 10**30)
    assert n["initialCollateralDeltaAmount"] == 250_500000
    assert n["acceptablePrice"] == gmx_price(3000_500000, 18) == 3_000_500_000_000_000
    assert n["executionFee"] == FEE
    assert (n["triggerPrice"], n["callbackGasLimit"], n["minOutputAmount"]) == (0, 0, 0)
    assert p["isLong"] is True
    assert p["dataList"] == [COID]


def test_btc_prices_scale_by_its_8_decimals() -> None:
    o = order(asset="BTC", acceptable_price_usd_1e6=65_000_250000)
    p = codec.decode_create_order(calls_of(VENUE.encode_order(o))[-1])
    assert p is not None
    assert p["numbers"]["acceptablePrice"] == gmx_price(65_000_250000, 8) == 6500025 * 10**20
    assert p["addresses"]["market"] == BTC_MARKET


def test_a_decrease_sends_no_tokens_and_withdraws_the_collateral() -> None:
    o = order(Action.DECREASE, is_long=False, collateral_usd_1e6=100_000000, leverage_x=3)
    fee_call, create = calls_of(VENUE.encode_order(o))
    assert fee_call[:4] == sel("sendWnt(address,uint256)")
    p = codec.decode_create_order(create)
    assert p is not None
    assert p["orderType"] == 4  # Order.OrderType.MarketDecrease
    assert p["numbers"]["sizeDeltaUsd"] == 300 * 10**30
    assert p["numbers"]["initialCollateralDeltaAmount"] == 100_000000
    assert p["isLong"] is False


def test_a_close_decreases_by_the_positions_size_with_no_collateral() -> None:
    size = 1_234_567 * 10**24 + 89  # GMX units, not a whole micro-USD
    p = codec.decode_create_order(
        calls_of(VENUE.encode_order(order(Action.CLOSE, close_size=size)))[-1]
    )
    assert p is not None
    assert p["orderType"] == 4
    assert p["numbers"]["sizeDeltaUsd"] == size
    assert p["numbers"]["initialCollateralDeltaAmount"] == 0


def test_a_close_without_its_size_is_refused() -> None:
    with pytest.raises(RejectedSignal, match="close_size_missing"):
        VENUE.encode_order(order(Action.CLOSE))


def test_an_unknown_asset_names_it_and_the_configured_ones() -> None:
    with pytest.raises(ConfigError, match=r"'DOGE'.*\['BTC', 'ETH'\]"):
        VENUE.encode_order(order(asset="DOGE"))


def test_collateral_converts_exactly_to_an_18_decimal_stablecoin() -> None:
    cfg18 = GmxConfig(**{**CFG.__dict__, "usdc_decimals": 18})
    v = GmxVenue(cfg18)
    p = codec.decode_create_order(calls_of(v.encode_order(order()))[-1])
    assert p is not None
    assert p["numbers"]["initialCollateralDeltaAmount"] == 250_500000 * 10**12
    assert v.decode_order(v.encode_order(order())) == order()


def test_order_value_is_the_fee_the_calldata_sends() -> None:
    assert VENUE.order_value(VENUE.encode_order(order())) == FEE
    assert VENUE.order_value(VENUE.encode_order(order(Action.CLOSE, close_size=1))) == FEE
    assert VENUE.order_value(codec.multicall([codec.cancel_order(b"\1" * 32)])) == 0
    assert VENUE.order_value(b"\xde\xad\xbe\xef") == 0


addresses = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address(b))


@given(
    st.sampled_from([Action.OPEN, Action.INCREASE, Action.DECREASE]),
    st.sampled_from(["ETH", "BTC"]),
    st.booleans(),
    st.integers(min_value=1, max_value=10**15),
    st.integers(min_value=1, max_value=1000),
    st.integers(min_value=0, max_value=10**15),
    st.binary(min_size=32, max_size=32),
    addresses,
)
def test_an_order_decodes_back_to_its_fields(
    action: Action,
    asset: str,
    is_long: bool,
    collateral: int,
    leverage: int,
    price: int,
    coid: bytes,
    account: str,
) -> None:
    o = OrderCall(action, asset, is_long, collateral, leverage, price, coid, account, None, FEE)
    back = VENUE.decode_order(VENUE.encode_order(o))
    # GMX has one increase type: an open and an increase read back as an open.
    expected_action = Action.DECREASE if action is Action.DECREASE else Action.OPEN
    assert back == OrderCall(
        expected_action, asset, is_long, collateral, leverage, price, coid, account, None, FEE
    )


def test_a_close_decodes_as_a_decrease_without_collateral() -> None:
    back = VENUE.decode_order(VENUE.encode_order(order(Action.CLOSE, close_size=10**30)))
    assert back is not None
    assert (back.action, back.collateral_usd_1e6, back.leverage_x) == (Action.DECREASE, 0, 0)


def test_tampered_or_foreign_calldata_decodes_to_none() -> None:
    data = VENUE.encode_order(order())
    assert VENUE.decode_order(b"\0\0\0\0" + data[4:]) is None
    fee_call, tokens_call, create = calls_of(data)
    tampered = codec.multicall([fee_call, tokens_call, b"\xff" + create[1:]])
    assert VENUE.decode_order(tampered) is None
    assert VENUE.decode_order(data[:100]) is None  # truncated
    swap = codec.decode_create_order(create)
    assert swap is not None
    swap["orderType"] = 0  # MarketSwap: not an order the port knows
    assert VENUE.decode_order(codec.multicall([codec.create_order(swap)])) is None
    other = {**swap, "orderType": 2}
    other["addresses"] = {**swap["addresses"], "market": "0x" + "99" * 20}
    assert VENUE.decode_order(codec.multicall([codec.create_order(other)])) is None


def test_cancel_request_is_cancel_order_of_the_key() -> None:
    assert VENUE.cancel_request(KEY) == sel("cancelOrder(bytes32)") + bytes.fromhex(KEY[2:])


# -- positions --------------------------------------------------------------------------------


def props(market: str, collateral_token: str, size: int, amount: int, is_long: bool) -> Any:
    numbers = (size, size // 3000, amount, -5, 0, 0, 0, 0, 1, 0)
    return ((ACCOUNT, market, collateral_token), numbers, (is_long,))


def test_position_call_reads_all_of_the_traders_positions_from_the_reader() -> None:
    call = VENUE.position_call(ACCOUNT, "ETH")
    expected = sel("getAccountPositions(address,address,uint256,uint256)") + encode(
        ["address", "address", "uint256", "uint256"], [CFG.data_store, ACCOUNT, 0, 1000]
    )
    assert call == Call(CFG.reader, expected)


def test_the_position_is_the_larger_usdc_one_in_the_assets_market() -> None:
    weth = sdk.tokens(42161)["WETH"].address
    rows = [
        props(BTC_MARKET, CFG.usdc, 10**40, 10**9, True),  # another market
        props(ETH_MARKET, weth, 10**39, 10**18, True),  # other collateral
        props(ETH_MARKET, CFG.usdc, 500 * 10**30, 100_000000, True),
        props(ETH_MARKET, CFG.usdc, 750 * 10**30 + 7, 150_250000, False),
    ]
    result = encode([f"{POSITION_PROPS}[]"], [rows])
    assert VENUE.decode_position("ETH", result) == Position(
        False, 750_000000, 150_250000, 750 * 10**30 + 7
    )
    assert VENUE.decode_position("ETH", encode([f"{POSITION_PROPS}[]"], [[]])) == Position(
        False, 0, 0, 0
    )
