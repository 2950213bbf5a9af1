"""GMX v2 events, offline: emitter events built with eth_abi decoded into outcomes and
request keys, the outcome filters, and the one-phase recorder beside them."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import to_checksum_address

from core.adapters.gmx import events
from core.adapters.venue import RecorderVenue
from core.domain.chain import Log
from core.domain.errors import ConfigError
from core.domain.venue import Call, OutcomeKind
from tests.unit.gmx_canon import (
    ACCOUNT,
    CFG,
    COID,
    ETH_MARKET,
    EVENT_LOG1,
    EVENT_LOG2,
    EVENT_LOG_DATA,
    KEY,
    VENUE,
    gmx_price,
    order,
    sel,
    topic,
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
