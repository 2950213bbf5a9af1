"""A GMX leader's executions, from the EventEmitter's logs (the leader half of the `Venue`
port on GMX v2). The leader's request is not a trade; a keeper's execution is:

- `PositionIncrease` / `PositionDecrease` (EventLog1, topic1 = the account) carry the
  market, the side, `sizeDeltaUsd`, `sizeInUsd` (the position's size *after* the event),
  `collateralDeltaAmount` with `collateralTokenPrice.min`, `executionPrice` and `orderType`
  — `Liquidation` (7) for a liquidation;
- `OrderExecuted` (EventLog2, topic2 = the account) of the same order carries
  `secondaryOrderType` — `Adl` (1) for an auto-deleveraging.

Each position key (account, market, collateral token, side) has its own size, so a
fraction is per position, whatever its collateral token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.adapters.gmx.events import GmxEvent, decode_event, event_name_hash, event_topic
from core.domain.chain import Log
from core.domain.leader_fills import LeaderFill
from core.domain.venue import LogFilter

USD_TO_GMX = 10**24  # micro-USD -> GMX's 30-decimal USD
LIQUIDATION = 7  # Order.OrderType.Liquidation
ADL = 1  # Order.SecondaryOrderType.Adl
FILL_EVENTS = ("PositionIncrease", "PositionDecrease")


def _topic(address: str) -> str:
    return "0x" + address.lower().removeprefix("0x").rjust(64, "0")


def leader_filters(emitter: str, leaders: Sequence[str]) -> list[LogFilter]:
    """The executions of `leaders`' positions (which transactions to read)."""
    if not leaders:
        return []
    accounts: list[str | list[str] | None] = [event_topic("EventLog1")]
    accounts += [[event_name_hash(n) for n in FILL_EVENTS], [_topic(a) for a in leaders]]
    return [LogFilter(emitter, accounts)]


def decode_fills(
    emitter: str, markets: Mapping[str, tuple[str, int]], logs: Sequence[Log]
) -> list[tuple[str, LeaderFill | str]]:
    """Every execution in one transaction's logs (its receipt, in order), any account's:
    (the account, its fill or why it is none). `markets`: market address (lower case) ->
    (asset, GMX price units per micro-USD per whole index token)."""
    events: list[tuple[Log, GmxEvent]] = []
    for lg in logs:
        if lg.address.lower() != emitter.lower():
            continue
        ev = decode_event(lg.topics, lg.data)
        if ev is not None:
            events.append((lg, ev))
    adl = {
        str(ev.items.get("key"))
        for _, ev in events
        if ev.name == "OrderExecuted" and int(ev.items.get("secondaryOrderType", 0)) == ADL
    }
    return [
        (str(ev.items.get("account", "")), _fill(ev.name, ev.items, markets, adl))
        for _, ev in events
        if ev.name in FILL_EVENTS
    ]


def _fill(
    name: str,
    it: Mapping[str, Any],
    markets: Mapping[str, tuple[str, int]],
    adl: set[str],
) -> LeaderFill | str:
    market = str(it.get("market", ""))
    found = markets.get(market.lower())
    if found is None:
        return f"market {market} is not configured"
    asset, price_unit = found
    delta = int(it.get("sizeDeltaUsd", 0))
    collateral = abs(int(it.get("collateralDeltaAmount", 0)))
    collateral_usd = collateral * int(it.get("collateralTokenPrice.min", 0)) // USD_TO_GMX
    if int(it.get("orderType", -1)) == LIQUIDATION:
        cause: str | None = "liquidation"
    elif str(it.get("orderKey")) in adl:
        cause = "adl"
    else:
        cause = None
    return LeaderFill(
        trader=str(it.get("account", "")),
        asset=asset,
        is_long=bool(it.get("isLong")),
        increase=name == "PositionIncrease",
        size_delta_raw=delta,
        size_after_raw=int(it.get("sizeInUsd", 0)),
        size_delta_usd_1e6=delta // USD_TO_GMX,
        collateral_delta_usd_1e6=collateral_usd,
        price_usd_1e6=int(it.get("executionPrice", 0)) // price_unit,
        cause=cause,
    )
