"""The recorder router's ABI (contracts/PerpRouter.sol): builds order calldata and decodes
it (leader calls, tests), and `RecorderVenue`, the one-phase `Venue` on it.

The same ABI both ways, so what a follower sends and what a leader sent decode alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from core.domain.chain import Log
from core.domain.equity import Holding
from core.domain.errors import ConfigError
from core.domain.leader_fills import LeaderFill
from core.domain.risk import FIXED_TERMS
from core.domain.subaccounts import SubaccountTerms
from core.domain.types import Action
from core.domain.venue import (
    Call,
    LogFilter,
    OrderCall,
    OrderEvent,
    Position,
    VenueOutcome,
    VenueTerms,
)

ARTIFACT = Path(__file__).resolve().parents[2] / "contracts" / "build" / "PerpRouter.json"
PLACE_ORDER_TYPES = ["uint8", "bytes32", "bool", "uint256", "uint256", "uint256", "bytes32"]
PLACE_ORDER = function_signature_to_4byte_selector(
    "placeOrder(" + ",".join(PLACE_ORDER_TYPES) + ")"
)
PRICES = function_signature_to_4byte_selector("prices(bytes32)")
POSITIONS = function_signature_to_4byte_selector("positions(address,bytes32)")
SET_PRICE = function_signature_to_4byte_selector("setPrice(bytes32,uint256)")
ORDER_TOPIC = (
    "0x"
    + keccak(text="Order(address,bytes32,bytes32,uint8,bool,uint256,uint256,uint256,uint256)").hex()
)


@lru_cache(maxsize=1)
def artifact() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ARTIFACT.read_text())
    return data


def asset_key(asset: str) -> bytes:
    return asset.encode().ljust(32, b"\0")


def encode_order(o: OrderCall) -> bytes:
    codes = {a.venue_code: a for a in Action}
    assert codes[o.action.venue_code] is o.action
    return PLACE_ORDER + encode(
        PLACE_ORDER_TYPES,
        [
            o.action.venue_code,
            asset_key(o.asset),
            o.is_long,
            o.collateral_usd_1e6,
            o.leverage_x,
            o.acceptable_price_usd_1e6,
            o.client_order_id,
        ],
    )


def decode_order(data: bytes) -> OrderCall | None:
    """The order in `placeOrder` calldata, or None when the call is something else."""
    if data[:4] != PLACE_ORDER:
        return None
    code, asset, is_long, collateral, leverage, price, coid = decode(PLACE_ORDER_TYPES, data[4:])
    by_code = {a.venue_code: a for a in Action}
    if code not in by_code:
        return None
    return OrderCall(
        by_code[code], asset.rstrip(b"\0").decode(), is_long, collateral, leverage, price, coid
    )


def encode_prices(asset: str) -> bytes:
    return PRICES + encode(["bytes32"], [asset_key(asset)])


def encode_set_price(asset: str, price_usd_1e6: int) -> bytes:
    return SET_PRICE + encode(["bytes32", "uint256"], [asset_key(asset), price_usd_1e6])


def encode_positions(trader: str, asset: str) -> bytes:
    return POSITIONS + encode(
        ["address", "bytes32"], [to_checksum_address(trader), asset_key(asset)]
    )


def decode_position(result: bytes) -> Position:
    is_long, size, collateral = decode(["bool", "uint256", "uint256"], result)
    return Position(is_long, size, collateral)


def decode_uint(result: bytes) -> int:
    (value,) = decode(["uint256"], result)
    return int(value)


ORDER_DATA_TYPES = ["uint8", "bool", "uint256", "uint256", "uint256", "uint256"]


def decode_order_event(topics: list[str], data: bytes) -> OrderEvent | None:
    """The Order event in a log, or None when the log is something else."""
    if len(topics) != 4 or topics[0].lower() != ORDER_TOPIC:
        return None
    code, is_long, collateral, leverage, size, price = decode(ORDER_DATA_TYPES, data)
    by_code = {a.venue_code: a for a in Action}
    if code not in by_code:
        return None
    return OrderEvent(
        to_checksum_address("0x" + topics[1][-40:]),
        bytes.fromhex(topics[2][2:]).rstrip(b"\0").decode(errors="replace"),
        topics[3],
        by_code[code],
        bool(is_long),
        int(collateral),
        int(leverage),
        int(size),
        int(price),
    )


class OnePhase:
    """The two-phase half of the `Venue` port on a venue where the mined order is the fill:
    no request key, no outcome to look for, no request to cancel, fixed terms."""

    two_phase = False
    sides_apart = False  # one position per asset: a long and a short cannot both be held
    terms = FIXED_TERMS

    def request_key(self, logs: Sequence[Log]) -> str | None:
        return None

    def leader_filters(self, leaders: Sequence[str]) -> list[LogFilter]:
        return []  # a leader's mined order is its trade: read from its own transactions

    def decode_leader_fills(self, logs: Sequence[Log]) -> list[tuple[str, LeaderFill | str]]:
        return []

    def outcome_filters(self, accounts: Sequence[str], keys: Sequence[str]) -> list[LogFilter]:
        return []

    def decode_outcome(self, log: Log) -> VenueOutcome | None:
        return None

    def cancel_request(self, key: str, by_subaccount: bool = False) -> bytes:
        raise ConfigError(
            "a one-phase venue has no request to cancel (a no-op cancel of the nonce is the "
            "only cancel there)"
        )

    def cancel_after_call(self) -> Call | None:
        return None

    def describe_revert(self, data: bytes) -> str | None:
        return None  # the router reverts with Error(string) only

    def subaccount_calls(self, account: str, subaccount: str) -> list[Call]:
        return []  # no subaccounts: a follower signs for its own address

    def decode_subaccount(self, results: Sequence[bytes]) -> SubaccountTerms:
        raise ConfigError("a one-phase venue has no subaccounts")

    def subaccount_setup_calls(
        self, subaccount: str, max_actions: int, expires_at: int
    ) -> list[Call]:
        raise ConfigError("subaccounts are GMX's (COPYTRADE_VENUE=gmx)")

    def decode_cancel_after(self, result: bytes) -> int:
        raise ConfigError("a one-phase venue: no request ever expires")

    def terms_calls(self) -> list[Call]:
        return []

    def decode_terms(self, results: Sequence[bytes]) -> VenueTerms:
        return self.terms

    def collateral_calls(self, account: str) -> list[Call]:
        return []  # no collateral moves: the mined order is the whole trade

    def decode_collateral(self, results: Sequence[bytes]) -> tuple[int, int]:
        return 0, 0

    def holdings_call(self, account: str) -> Call | None:
        return None  # the recorder takes no collateral: no equity to read

    def decode_holdings(self, result: bytes) -> list[Holding]:
        return []

    def approve_call(self, amount_usd_1e6: int) -> Call | None:
        return None


class RecorderVenue(OnePhase):
    """The `Venue` port (core/ports.py) on the recorder router's ABI: one-phase, the mined
    order is the fill."""

    closes_by_size = False  # the router closes the whole position itself
    order_selector = PLACE_ORDER

    def __init__(self, address: str) -> None:
        self.address = address  # the router: orders, prices and positions alike

    def orders_filter(self) -> LogFilter:
        return LogFilter(self.address, [ORDER_TOPIC])

    def order_placed(self, log: Log) -> tuple[str, str] | None:
        """An Order event: (its trader, its client order id)."""
        if len(log.topics) != 4 or log.topics[0].lower() != ORDER_TOPIC:
            return None
        return to_checksum_address("0x" + log.topics[1][-40:]), log.topics[3].lower()

    def encode_order(self, o: OrderCall) -> bytes:
        return encode_order(o)

    def order_value(self, calldata: bytes) -> int:
        return 0  # the router takes no native fee

    def order_to(self, calldata: bytes) -> str:
        return self.address

    def decode_order(self, data: bytes) -> OrderCall | None:
        return decode_order(data)

    def price_call(self, asset: str) -> Call | None:
        return Call(self.address, encode_prices(asset))

    def decode_price(self, result: bytes) -> int:
        return decode_uint(result)

    def position_call(self, trader: str, asset: str) -> Call:
        return Call(self.address, encode_positions(trader, asset))

    def decode_position(self, asset: str, result: bytes, is_long: bool | None = None) -> Position:
        return decode_position(result)  # one position per asset

    def decode_order_event(self, topics: list[str], data: bytes) -> OrderEvent | None:
        return decode_order_event(topics, data)
