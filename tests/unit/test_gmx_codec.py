"""GMX v2 codec and venue, offline: calldata round trips, selectors and topics against
canonical signatures written out by hand here, unit conversions checked with Fraction,
emitter events built with eth_abi decoded into outcomes and request keys."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from core.adapters.gmx import codec, events, sdk
from core.adapters.gmx.config import GmxConfig, GmxMarket
from core.adapters.gmx.venue import GmxVenue
from core.adapters.venue import RecorderVenue
from core.domain.chain import Log
from core.domain.errors import ConfigError, RejectedSignal
from core.domain.types import Action
from core.domain.venue import Call, OrderCall, OutcomeKind, Position

# -- canonical signatures, by hand ------------------------------------------------------------

CREATE_ORDER_PARAMS = (
    "((address,address,address,address,address,address,address[]),"
    "(uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256),"
    "uint8,uint8,bool,bool,bool,bytes32,bytes32[])"
)
EVENT_LOG_DATA = (
    "(((string,address)[],(string,address[])[]),((string,uint256)[],(string,uint256[])[]),"
    "((string,int256)[],(string,int256[])[]),((string,bool)[],(string,bool[])[]),"
    "((string,bytes32)[],(string,bytes32[])[]),((string,bytes)[],(string,bytes[])[]),"
    "((string,string)[],(string,string[])[]))"
)
POSITION_PROPS = (
    "((address,address,address),"
    "(uint256,uint256,uint256,int256,uint256,uint256,uint256,uint256,uint256,uint256),(bool))"
)
EVENT_LOG1 = f"EventLog1(address,string,string,bytes32,{EVENT_LOG_DATA})"
EVENT_LOG2 = f"EventLog2(address,string,string,bytes32,bytes32,{EVENT_LOG_DATA})"


def sel(signature: str) -> bytes:
    return bytes(function_signature_to_4byte_selector(signature))


def topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


# -- a configuration ---------------------------------------------------------------------------

ETH_MARKET = "0x70d95587d40A2caf56bd97485aB3Eec10Bee6336"
BTC_MARKET = "0x47c031236e19d024b42f8AE6780E44A573170703"
FEE = 123_456_789_000_000
ACCOUNT = "0x" + "ab" * 20
KEY = "0x" + "5e" * 32
COID = bytes(range(32))

CFG = GmxConfig.for_chain(
    42161,
    {"ETH": GmxMarket(ETH_MARKET, 18), "BTC": GmxMarket(BTC_MARKET, 8)},
)
VENUE = GmxVenue(CFG)


def order(action: Action = Action.OPEN, **kw: Any) -> OrderCall:
    base: dict[str, Any] = {
        "action": action,
        "asset": "ETH",
        "is_long": True,
        "collateral_usd_1e6": 250_500000,  # $250.50
        "leverage_x": 5,
        "acceptable_price_usd_1e6": 3000_500000,  # $3000.50
        "client_order_id": COID,
        "account": to_checksum_address(ACCOUNT),
        "execution_fee_wei": FEE,
    }
    return OrderCall(**{**base, **kw})


def gmx_price(usd_1e6: int, decimals: int) -> int:
    """USD per smallest token unit with 30 decimals, computed exactly with Fraction."""
    exact = Fraction(usd_1e6, 10**6) * 10**30 / 10**decimals
    assert exact.denominator == 1
    return int(exact)


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


# -- events -----------------------------------------------------------------------------------


def event_data(**groups: dict[str, Any]) -> tuple[Any, ...]:
    """EventLogData: groups by prefix (address, uint, …), a list value as an array item."""
    out = []
    for g in ("address", "uint", "int", "bool", "bytes32", "bytes", "string"):
        kv = groups.get(g, {})
        singles = [(k, v) for k, v in kv.items() if not isinstance(v, list)]
        arrays = [(k, v) for k, v in kv.items() if isinstance(v, list)]
        out.append((singles, arrays))
    return tuple(out)


def emitter_log(
    name: str, topics: list[str], data: tuple[Any, ...], address: str | None = None
) -> Log:
    signature = EVENT_LOG1 if len(topics) == 1 else EVENT_LOG2
    body = encode(["address", "string", EVENT_LOG_DATA], [ACCOUNT, name, data])
    return Log(
        address or CFG.event_emitter.lower(),
        [topic(signature), topic(name), *topics],
        body,
        block_number=77,
        block_hash="0x" + "bb" * 32,
        tx_hash="0x" + "cc" * 32,
    )


ACCOUNT_TOPIC = "0x" + "00" * 12 + "ab" * 20


def order_created() -> Log:
    data = event_data(
        address={"account": ACCOUNT, "market": ETH_MARKET, "swapPath": []},
        uint={"orderType": 2, "sizeDeltaUsd": 10**33},
        bool={"isLong": True},
        bytes32={"key": bytes.fromhex(KEY[2:]), "dataList": [COID]},
    )
    return emitter_log("OrderCreated", [KEY, ACCOUNT_TOPIC], data)


def test_order_created_decodes_to_a_flat_gmx_event() -> None:
    log = order_created()
    ev = events.decode_event(log.topics, log.data)
    assert ev == events.GmxEvent(
        "OrderCreated",
        KEY,
        ACCOUNT_TOPIC,
        {
            "account": to_checksum_address(ACCOUNT),
            "market": ETH_MARKET,
            "swapPath": [],
            "orderType": 2,
            "sizeDeltaUsd": 10**33,
            "isLong": True,
            "key": KEY,
            "dataList": ["0x" + COID.hex()],
        },
    )
    assert events.event_name_hash("OrderCreated") == topic("OrderCreated")


def test_request_key_is_the_order_created_by_the_emitter() -> None:
    created = order_created()
    elsewhere = Log("0x" + "12" * 20, created.topics, created.data)
    other = emitter_log("OrderUpdated", ["0x" + "01" * 32, ACCOUNT_TOPIC], event_data())
    assert VENUE.request_key([elsewhere, other, created]) == KEY
    assert VENUE.request_key([elsewhere, other]) is None
    assert VENUE.decode_outcome(created) is None  # a request, not an outcome


def test_a_log_whose_name_hash_disagrees_with_its_name_is_not_an_event() -> None:
    log = order_created()
    forged = Log(log.address, [log.topics[0], topic("OrderCancelled"), *log.topics[2:]], log.data)
    assert events.decode_event(forged.topics, forged.data) is None
    assert events.decode_event(log.topics[:3], log.data) is None  # an EventLog2 needs 4


def cancelled(name: str, reason: str, reason_bytes: bytes) -> Log:
    data = event_data(
        address={"account": ACCOUNT},
        bytes32={"key": bytes.fromhex(KEY[2:])},
        string={"reason": reason},
        bytes={"reasonBytes": reason_bytes},
    )
    return emitter_log(name, [KEY, ACCOUNT_TOPIC], data)


def test_a_cancel_for_the_acceptable_price_names_the_custom_error() -> None:
    raw = sel("OrderNotFulfillableAtAcceptablePrice(uint256,uint256)") + encode(
        ["uint256", "uint256"], [3001 * 10**12, 3000 * 10**12]
    )
    out = VENUE.decode_outcome(cancelled("OrderCancelled", "", raw))
    assert out is not None
    assert (out.order_key, out.kind) == (KEY, OutcomeKind.CANCELLED)
    assert (out.block_number, out.block_hash, out.tx_hash) == (
        77,
        "0x" + "bb" * 32,
        "0x" + "cc" * 32,
    )
    assert out.reason == (
        "OrderNotFulfillableAtAcceptablePrice("
        "price=3001000000000000, acceptablePrice=3000000000000000)"
    )


def test_a_cancel_with_a_revert_string_and_a_freeze_keep_the_reason() -> None:
    raw = sel("Error(string)") + encode(["string"], ["slippage"])
    out = VENUE.decode_outcome(cancelled("OrderCancelled", "slippage", raw))
    assert out is not None
    assert out.reason == "slippage"
    frozen = VENUE.decode_outcome(cancelled("OrderFrozen", "frozen: why", b"\x01\x02"))
    assert frozen is not None
    assert (frozen.kind, frozen.reason) == (OutcomeKind.FROZEN, "frozen: why")


def position_increase(market: str = ETH_MARKET) -> Log:
    data = event_data(
        address={"account": ACCOUNT, "market": market, "collateralToken": CFG.usdc},
        uint={
            "executionPrice": gmx_price(3000_500000, 18) + 999_999,  # floors to $3000.50
            "sizeDeltaUsd": 1252_500000 * 10**24 + 1,
        },
        int={"collateralDeltaAmount": 250_500000},
        bool={"isLong": True},
        bytes32={"orderKey": bytes.fromhex(KEY[2:]), "positionKey": b"\7" * 32},
    )
    return emitter_log("PositionIncrease", [ACCOUNT_TOPIC], data)


def test_a_position_increase_is_the_execution_of_its_order_key() -> None:
    out = VENUE.decode_outcome(position_increase())
    assert out is not None
    assert (out.order_key, out.kind, out.block_number) == (KEY, OutcomeKind.EXECUTED, 77)
    assert out.price_usd_1e6 == 3000_500000
    assert out.size_delta_usd_1e6 == 1252_500000
    unknown_market = VENUE.decode_outcome(position_increase("0x" + "99" * 20))
    assert unknown_market is not None
    assert unknown_market.price_usd_1e6 == 0


def test_logs_of_other_contracts_are_no_outcome() -> None:
    log = position_increase()
    assert VENUE.decode_outcome(Log("0x" + "12" * 20, log.topics, log.data)) is None


def test_outcome_filters_select_by_name_hash_and_topic1() -> None:
    second = "0x" + "cd" * 20
    by_account, by_key = VENUE.outcome_filters([ACCOUNT, second], [KEY.upper().replace("0X", "0x")])
    assert by_account.address == by_key.address == CFG.event_emitter
    assert by_account.topics == [
        topic(EVENT_LOG1),
        [topic("PositionIncrease"), topic("PositionDecrease")],
        [ACCOUNT_TOPIC, "0x" + "00" * 12 + "cd" * 20],
    ]
    assert by_key.topics == [
        topic(EVENT_LOG2),
        [topic("OrderCancelled"), topic("OrderFrozen")],
        [KEY],
    ]
    assert VENUE.outcome_filters([], []) == []
    assert [f.topics[0] for f in VENUE.outcome_filters([], [KEY])] == [topic(EVENT_LOG2)]


def test_price_is_not_read_on_chain() -> None:
    assert VENUE.price_call("ETH") is None
    with pytest.raises(ConfigError):
        VENUE.decode_price(b"")


# -- the one-phase recorder -------------------------------------------------------------------


def test_the_recorder_is_one_phase_and_reads_from_its_router() -> None:
    router = "0x" + "42" * 20
    v = RecorderVenue(router)
    assert (v.two_phase, v.closes_by_size) == (False, False)
    assert v.order_value(v.encode_order(order())) == 0
    assert v.price_call("ETH") == Call(router, sel("prices(bytes32)") + b"ETH".ljust(32, b"\0"))
    position = v.position_call(ACCOUNT, "ETH")
    assert position.to == router
    assert position.data[:4] == sel("positions(address,bytes32)")
    assert v.request_key([order_created()]) is None
    assert v.outcome_filters([ACCOUNT], [KEY]) == []
    assert v.decode_outcome(position_increase()) is None
    with pytest.raises(ConfigError, match="one-phase"):
        v.cancel_request(KEY)
