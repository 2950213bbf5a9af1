"""The `Venue` port (core/ports.py) on GMX v2: a two-phase venue.

Our transaction only requests an order (ExchangeRouter.multicall: the execution fee, the
collateral, createOrder); a keeper executes it at the oracle price or cancels it later.
The request's key comes from the OrderCreated event in its receipt, the outcome from the
EventEmitter's PositionIncrease / PositionDecrease / OrderCancelled / OrderFrozen.

Units: GMX's USD has 30 decimals (1 micro-USD = 10^24); a price is USD per smallest unit
of the index token, so 1 micro-USD per whole token is 10^(24 - index_decimals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.adapters.gmx import codec, subaccounts
from core.adapters.gmx import leaders as leaders_mod
from core.adapters.gmx.config import GmxConfig, GmxMarket
from core.adapters.gmx.events import (
    GmxEvent,
    decode_error,
    decode_event,
    event_name_hash,
    event_topic,
)
from core.domain.chain import Log
from core.domain.equity import Holding
from core.domain.errors import ConfigError, RejectedSignal
from core.domain.leader_fills import LeaderFill
from core.domain.subaccounts import SubaccountTerms
from core.domain.types import Action
from core.domain.venue import (
    Call,
    LogFilter,
    OrderCall,
    OrderEvent,
    OutcomeKind,
    Position,
    VenueOutcome,
    VenueTerms,
)

USD_TO_GMX = 10**24  # micro-USD -> GMX's 30-decimal USD
GMX_FLOAT = 10**30  # Precision.FLOAT_PRECISION: a factor of 1
ORDER_ORACLE_PRICES = 3  # GasUtils.estimateOrderOraclePriceCount(swaps = 0)
# The DataStore keys (Keys.sol) that VenueTerms is read from, in terms_calls' order.
TERM_KEYS = (
    "ESTIMATED_GAS_FEE_BASE_AMOUNT_V2_1",
    "ESTIMATED_GAS_FEE_PER_ORACLE_PRICE",
    "ESTIMATED_GAS_FEE_MULTIPLIER_FACTOR",
    "INCREASE_ORDER_GAS_LIMIT",
    "DECREASE_ORDER_GAS_LIMIT",
    "MIN_POSITION_SIZE_USD",
    "MIN_COLLATERAL_USD",
)
POSITIONS_PAGE = 1000  # getAccountPositions(start=0, end=…): one account's positions, all
EXECUTED_EVENTS = ("PositionIncrease", "PositionDecrease")
ENDED_EVENTS = {"OrderCancelled": OutcomeKind.CANCELLED, "OrderFrozen": OutcomeKind.FROZEN}


def _topic(address: str) -> str:
    """An address as a 32-byte topic (Cast.toBytes32: left-padded)."""
    return "0x" + address.lower().removeprefix("0x").rjust(64, "0")


def _hex32(key: str) -> str:
    return "0x" + key.lower().removeprefix("0x").rjust(64, "0")


class GmxVenue:
    """The `Venue` port on GMX v2's ExchangeRouter, Reader and EventEmitter."""

    two_phase = True
    closes_by_size = True
    sides_apart = True

    def __init__(self, cfg: GmxConfig) -> None:
        self.cfg = cfg
        self.order_selector = codec.selector(codec.ROUTER, "multicall")
        self._by_market = {m.market.lower(): (a, m) for a, m in cfg.markets.items()}

    def _market(self, asset: str) -> GmxMarket:
        m = self.cfg.markets.get(asset)
        if m is None:
            raise ConfigError(
                f"no GMX market configured for asset {asset!r}; configured: "
                f"{sorted(self.cfg.markets) or 'none'}"
            )
        return m

    def _usdc_units(self, usd_1e6: int) -> int:
        # exact: USDC has 6 decimals or more on every GMX chain
        scaled = usd_1e6 * 10**self.cfg.usdc_decimals
        if scaled % 10**6:
            raise ConfigError(f"{usd_1e6} micro-USD is no whole USDC amount")
        return int(scaled // 10**6)

    # -- orders -------------------------------------------------------------------------------

    def encode_order(self, o: OrderCall) -> bytes:
        m = self._market(o.asset)
        increase = o.action.adds_exposure
        if o.action is Action.CLOSE:
            if o.close_size is None:
                raise RejectedSignal(
                    "close_size_missing", f"a GMX close of {o.asset} needs the position's size"
                )
            # All of it: GMX pays the whole collateral out when the size reaches 0
            # (DecreasePositionUtils zeroes initialCollateralDeltaAmount on a full close).
            size, collateral = o.close_size, 0
        elif o.action is Action.DECREASE and o.close_size is not None:
            # In proportion: that share of the position's size and of its collateral.
            size, collateral = o.close_size, self._usdc_units(o.collateral_usd_1e6)
        else:
            size = o.collateral_usd_1e6 * o.leverage_x * USD_TO_GMX
            collateral = self._usdc_units(o.collateral_usd_1e6)
        fee = o.execution_fee_wei
        if fee <= 0:
            raise ConfigError("a GMX request needs its execution fee (VenueTerms.execution_fee)")
        params: dict[str, Any] = {
            "addresses": {
                "receiver": o.account,
                # Where a cancelled increase's collateral goes back to (0x0 would mean
                # the account too; it only may not be the order vault).
                "cancellationReceiver": o.account,
                "callbackContract": codec.ZERO_ADDRESS,
                "uiFeeReceiver": codec.ZERO_ADDRESS,
                "market": m.market,
                "initialCollateralToken": self.cfg.usdc,
                "swapPath": [],
            },
            "numbers": {
                "sizeDeltaUsd": size,
                "initialCollateralDeltaAmount": collateral,
                "triggerPrice": 0,
                "acceptablePrice": o.acceptable_price_usd_1e6 * m.price_unit,
                "executionFee": fee,
                "callbackGasLimit": 0,
                "minOutputAmount": 0,
                "validFromTime": 0,
            },
            "orderType": codec.MARKET_INCREASE if increase else codec.MARKET_DECREASE,
            "decreasePositionSwapType": codec.NO_SWAP,
            "isLong": o.is_long,
            "shouldUnwrapNativeToken": False,
            "autoCancel": False,
            "referralCode": codec.ZERO_BYTES32,
            # Our idempotency key rides in the order: OrderCreated emits dataList.
            "dataList": [o.client_order_id],
        }
        calls = [codec.send_wnt(self.cfg.order_vault, fee)]
        if o.by_subaccount:
            # SubaccountRouter: the fee from the subaccount's own value, the collateral
            # pulled from the account by the router (no sendTokens), the order the account's.
            self._subaccount_router()
            calls.append(codec.subaccount_create_order(o.account, params))
            return codec.multicall(calls)
        if increase:
            calls.append(codec.send_tokens(self.cfg.usdc, self.cfg.order_vault, collateral))
        calls.append(codec.create_order(params))
        return codec.multicall(calls)

    def _subaccount_router(self) -> str:
        if not self.cfg.subaccount_router:
            raise ConfigError(
                "a follower trades through a GMX subaccount, but no SubaccountRouter is "
                "configured: add subaccount_router to COPYTRADE_GMX_CONTRACTS"
            )
        return self.cfg.subaccount_router

    def order_to(self, calldata: bytes) -> str:
        """The ExchangeRouter, or the SubaccountRouter for a subaccount's calldata."""
        if subaccounts.is_subaccount_call(calldata):
            return self._subaccount_router()
        return self.cfg.exchange_router

    def subaccount_calls(self, account: str, subaccount: str) -> list[Call]:
        if not self.cfg.subaccount_router:
            return []  # no SubaccountRouter configured: none of its orders can be built
        return subaccounts.terms_calls(self.cfg.data_store, account, subaccount)

    def decode_subaccount(self, results: Sequence[bytes]) -> SubaccountTerms:
        return subaccounts.decode_terms(results)

    def subaccount_setup_calls(
        self, subaccount: str, max_actions: int, expires_at: int
    ) -> list[Call]:
        data = subaccounts.setup_calls(subaccount, max_actions, expires_at)
        return [Call(self._subaccount_router(), data)]

    def order_value(self, calldata: bytes) -> int:
        calls = codec.decode_multicall(calldata) or []
        sends = (codec.decode_call(codec.ROUTER, "sendWnt", c) for c in calls)
        return sum(int(s["amount"]) for s in sends if s is not None)

    def decode_order(self, data: bytes) -> OrderCall | None:
        """The market order in a multicall (its first createOrder); None otherwise."""
        calls = codec.decode_multicall(data) or []
        p = next((q for q in map(subaccounts.create_params, calls) if q is not None), None)
        if p is None or p["orderType"] not in (codec.MARKET_INCREASE, codec.MARKET_DECREASE):
            return None
        found = self._by_market.get(p["addresses"]["market"].lower())
        if found is None:
            return None
        asset, m = found
        n = p["numbers"]
        units = n["initialCollateralDeltaAmount"]
        collateral = units * 10**6 // 10**self.cfg.usdc_decimals
        size = n["sizeDeltaUsd"]
        data_list = p["dataList"]
        return OrderCall(
            Action.OPEN if p["orderType"] == codec.MARKET_INCREASE else Action.DECREASE,
            asset,
            bool(p["isLong"]),
            collateral,
            size // (collateral * USD_TO_GMX) if collateral > 0 else 0,
            n["acceptablePrice"] // m.price_unit,
            bytes(data_list[0]) if data_list else codec.ZERO_BYTES32,
            p["addresses"]["receiver"],
            execution_fee_wei=int(n["executionFee"]),
        )

    def cancel_request(self, key: str, by_subaccount: bool = False) -> bytes:
        raw = bytes.fromhex(_hex32(key)[2:])
        if by_subaccount:
            self._subaccount_router()
            return codec.multicall([codec.subaccount_cancel_order(raw)])
        return codec.cancel_order(raw)

    def describe_revert(self, data: bytes) -> str | None:
        return decode_error(data)

    def cancel_after_call(self) -> Call | None:
        """GMX's BaseOrderUtils.validateRequestCancellation: a trader's cancelOrder reverts
        RequestNotYetCancellable until REQUEST_EXPIRATION_TIME seconds (block time) have
        passed since the order's updatedAtTime."""
        return Call(self.cfg.data_store, codec.get_uint(codec.key_of("REQUEST_EXPIRATION_TIME")))

    def decode_cancel_after(self, result: bytes) -> int:
        return codec.decode_uint(result)

    # -- reads --------------------------------------------------------------------------------

    def terms_calls(self) -> list[Call]:
        """The DataStore keys behind GasUtils.validateExecutionFee and the venue minimums."""
        return [Call(self.cfg.data_store, codec.get_uint(codec.key_of(k))) for k in TERM_KEYS]

    def collateral_calls(self, account: str) -> list[Call]:
        """The follower's USDC balance and its allowance to GMX's Router (the spender of
        sendTokens)."""
        usdc = self.cfg.usdc
        return [
            Call(usdc, codec.balance_of(account)),
            Call(usdc, codec.allowance(account, self.cfg.router)),
        ]

    def decode_collateral(self, results: Sequence[bytes]) -> tuple[int, int]:
        balance, allowed = results
        scale = 10**self.cfg.usdc_decimals
        return (
            codec.decode_amount("balanceOf", balance) * 10**6 // scale,
            codec.decode_amount("allowance", allowed) * 10**6 // scale,
        )

    def approve_call(self, amount_usd_1e6: int) -> Call | None:
        return Call(self.cfg.usdc, codec.approve(self.cfg.router, self._usdc_units(amount_usd_1e6)))

    def decode_terms(self, results: Sequence[bytes]) -> VenueTerms:
        v = dict(zip(TERM_KEYS, map(codec.decode_uint, results), strict=True))

        def fee_gas(limit_key: str) -> int:
            # GasUtils.adjustGasLimitForEstimate(estimateExecute{In,De}creaseOrderGasLimit):
            # no swaps and no callback of ours, 3 oracle prices
            base = v["ESTIMATED_GAS_FEE_BASE_AMOUNT_V2_1"]
            base += v["ESTIMATED_GAS_FEE_PER_ORACLE_PRICE"] * ORDER_ORACLE_PRICES
            return base + v[limit_key] * v["ESTIMATED_GAS_FEE_MULTIPLIER_FACTOR"] // GMX_FLOAT

        return VenueTerms(
            min_position_usd_1e6=-(-v["MIN_POSITION_SIZE_USD"] // USD_TO_GMX),
            min_collateral_usd_1e6=-(-v["MIN_COLLATERAL_USD"] // USD_TO_GMX),
            increase_fee_gas=fee_gas("INCREASE_ORDER_GAS_LIMIT"),
            decrease_fee_gas=fee_gas("DECREASE_ORDER_GAS_LIMIT"),
        )

    def price_call(self, asset: str) -> Call | None:
        return None  # GMX prices come from its oracle keepers, not from a view

    def decode_price(self, result: bytes) -> int:
        raise ConfigError("GMX has no on-chain price read; price_call is None")

    def position_call(self, trader: str, asset: str) -> Call:
        data = codec.get_account_positions(self.cfg.data_store, trader, 0, POSITIONS_PAGE)
        return Call(self.cfg.reader, data)

    def decode_position(self, asset: str, result: bytes, is_long: bool | None = None) -> Position:
        market = self._market(asset).market.lower()
        usdc = self.cfg.usdc.lower()
        mine = [
            p
            for p in codec.decode_account_positions(result)
            if p.market.lower() == market
            and p.collateral_token.lower() == usdc
            and is_long in (None, p.is_long)
        ]
        if not mine:
            return Position(False, 0, 0, 0)
        # GMX keeps a long and a short apart (the position key includes isLong); the port
        # has one position per asset, so a trader holding both is seen as the larger.
        p = max(mine, key=lambda q: q.size_in_usd)
        return Position(
            p.is_long,
            p.size_in_usd // USD_TO_GMX,
            p.collateral_amount * 10**6 // 10**self.cfg.usdc_decimals,
            p.size_in_usd,
        )

    def holdings_call(self, account: str) -> Call | None:
        return Call(self.cfg.reader, codec.get_account_positions(
            self.cfg.data_store, account, 0, POSITIONS_PAGE))  # fmt: skip

    def decode_holdings(self, result: bytes) -> list[Holding]:
        usdc = self.cfg.usdc.lower()
        out: list[Holding] = []
        for p in codec.decode_account_positions(result):
            known = self._by_market.get(p.market.lower())
            if known is None or p.collateral_token.lower() != usdc:
                raise ConfigError(
                    f"{p.account} holds a position in market {p.market} with collateral "
                    f"{p.collateral_token}, which copytrade does not know: configure the market"
                )
            asset, market = known
            out.append(Holding(
                asset, p.is_long, p.size_in_usd // USD_TO_GMX, p.size_in_tokens,
                market.index_decimals,
                p.collateral_amount * 10**6 // 10**self.cfg.usdc_decimals, p.size_in_usd,
            ))  # fmt: skip
        return out

    def decode_order_event(self, topics: list[str], data: bytes) -> OrderEvent | None:
        return None  # a GMX leader's trades are its executions: decode_leader_fills

    def leader_filters(self, leaders: Sequence[str]) -> list[LogFilter]:
        return leaders_mod.leader_filters(self.cfg.event_emitter, leaders)

    def decode_leader_fills(self, logs: Sequence[Log]) -> list[tuple[str, LeaderFill | str]]:
        markets = {k: (a, m.price_unit) for k, (a, m) in self._by_market.items()}
        return leaders_mod.decode_fills(self.cfg.event_emitter, markets, logs)

    # -- two-phase ----------------------------------------------------------------------------

    def _event(self, log: Log) -> GmxEvent | None:
        if log.address.lower() != self.cfg.event_emitter.lower():
            return None
        return decode_event(log.topics, log.data)

    def orders_filter(self) -> LogFilter:
        return LogFilter(
            self.cfg.event_emitter, [event_topic("EventLog2"), event_name_hash("OrderCreated")]
        )

    def order_placed(self, log: Log) -> tuple[str, str] | None:
        """OrderCreated: (its account, our idempotency key from dataList[0])."""
        ev = self._event(log)
        if ev is None or ev.name != "OrderCreated":
            return None
        data_list = ev.items.get("dataList") or []
        key = str(data_list[0]) if data_list else "0x" + "00" * 32
        return str(ev.items.get("account", "")), key

    def request_key(self, logs: Sequence[Log]) -> str | None:
        for log in logs:
            ev = self._event(log)
            if ev is not None and ev.name == "OrderCreated" and ev.topic1 is not None:
                return str(ev.topic1)
        return None

    def outcome_filters(self, accounts: Sequence[str], keys: Sequence[str]) -> list[LogFilter]:
        filters: list[LogFilter] = []
        if accounts:
            names = [event_name_hash(n) for n in EXECUTED_EVENTS]
            topics: list[str | list[str] | None] = [
                event_topic("EventLog1"),
                names,
                [_topic(a) for a in accounts],
            ]
            filters.append(LogFilter(self.cfg.event_emitter, topics))
        if keys:
            names = [event_name_hash(n) for n in ENDED_EVENTS]
            topics = [event_topic("EventLog2"), names, [_hex32(k) for k in keys]]
            filters.append(LogFilter(self.cfg.event_emitter, topics))
        return filters

    def decode_outcome(self, log: Log) -> VenueOutcome | None:
        ev = self._event(log)
        if ev is None:
            return None
        where = (log.block_number, log.block_hash, log.tx_hash)
        items = ev.items
        if ev.name in EXECUTED_EVENTS and "orderKey" in items:
            found = self._by_market.get(str(items.get("market", "")).lower())
            # A market no longer configured still settles the request; its price is unknown.
            price = int(items.get("executionPrice", 0)) // found[1].price_unit if found else 0
            return VenueOutcome(
                items["orderKey"],
                OutcomeKind.EXECUTED,
                *where,
                price_usd_1e6=price,
                size_delta_usd_1e6=int(items.get("sizeDeltaUsd", 0)) // USD_TO_GMX,
            )
        if ev.name in ENDED_EVENTS and "key" in items:
            return VenueOutcome(items["key"], ENDED_EVENTS[ev.name], *where, reason=_reason(items))
        return None


def _reason(items: Mapping[str, Any]) -> str:
    """GMX's reason string (empty for a custom error) and the decoded reasonBytes."""
    reason = str(items.get("reason", ""))
    raw = items.get("reasonBytes", b"")
    detail = decode_error(bytes(raw)) if raw else None
    if detail is None or detail == reason:
        return reason
    return f"{reason}: {detail}" if reason else detail
