"""Before a nonce is taken: can each follower pay for its orders? Gas at the fee cap plus
the value each order carries (a GMX execution fee), and on a venue that takes collateral
the collateral token's balance and allowance. An order a follower cannot pay for is
rejected with the figures, alone: the follower's other orders and the other followers go
on."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from core.domain.rows import ToSign
from core.domain.types import USD, Action
from core.domain.venue import Call
from core.ports import Venue


class CollateralChain(Protocol):
    def calls(self, calls: Sequence[Call]) -> list[bytes]: ...


def unaffordable(
    todo: list[ToSign],
    failures: dict[int, str],
    gas_each: int,
    wei: dict[str, int],
    value: dict[int, int],
) -> dict[int, str]:
    """Intents whose signer cannot pay `gas_each` (max fee x gas limit) plus the value the
    order carries, for each of its orders in this batch: `insufficient_funds`."""
    poor: dict[int, str] = {}
    spent: dict[str, int] = {}
    for t in todo:
        if t.intent_id in failures:
            continue
        spent[t.signer_address] = (
            spent.get(t.signer_address, 0) + gas_each + value.get(t.intent_id, 0)
        )
        if wei.get(t.signer_address, 0) < spent[t.signer_address]:
            poor[t.intent_id] = (
                f"insufficient_funds: {wei.get(t.signer_address, 0)} wei < "
                f"{spent[t.signer_address]} wei of gas and fees"
            )
    return poor


def _usd(v: int) -> str:
    return f"{Decimal(v) / USD:f}"


def short_of_collateral(
    todo: list[ToSign], failures: dict[int, str], venue: Venue, chain: CollateralChain
) -> dict[int, str]:
    """Orders that add exposure on a venue taking collateral, whose follower's token
    balance (`insufficient_collateral`) or allowance to the venue (`no_allowance`) does
    not cover its orders of this batch; read in one batch of calls."""
    adds = [
        t
        for t in todo
        if t.intent_id not in failures
        and t.action in {a.value for a in Action if a.adds_exposure}
        and t.collateral_usd_1e6 > 0
    ]
    accounts = sorted({t.account for t in adds})  # a subaccount's collateral is its wallet's
    calls = {a: venue.collateral_calls(a) for a in accounts}
    flat = [c for a in accounts for c in calls[a]]
    if not flat:
        return {}
    results = chain.calls(flat)
    held: dict[str, tuple[int, int]] = {}
    at = 0
    for a in accounts:
        n = len(calls[a])
        held[a] = venue.decode_collateral(results[at : at + n])
        at += n
    short: dict[int, str] = {}
    need: dict[str, int] = {}
    for t in adds:
        a = t.account
        need[a] = need.get(a, 0) + t.collateral_usd_1e6
        balance, allowed = held[a]
        if balance < need[a]:
            short[t.intent_id] = (
                f"insufficient_collateral: {_usd(balance)} USDC < {_usd(need[a])} USDC"
            )
        elif allowed < need[a]:
            short[t.intent_id] = (
                f"no_allowance: {_usd(allowed)} USDC approved < {_usd(need[a])} USDC "
                "(copytrade follower approve)"
            )
    return short
