"""Accounts' equity on the venue, read from the chain at one block and kept for that block:
the collateral token held plus every open position valued at the venue's price
(core/domain/equity.py). Equity-ratio sizing reads the follower's and the leader's; the loss
guard reads its followers'. One account whose equity cannot be read (a market we do not
know, an asset without a price, a call the node reverts) is that account's answer alone:
a string saying why; a node that does not answer is a TransientError for the caller."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from core.domain.equity import Equity, Unpriced, equity
from core.domain.errors import ChainError, ConfigError
from core.domain.venue import Call
from core.ports import Venue

NO_EQUITY_VENUE = "the venue holds no collateral to value (equity needs GMX)"


class EquityChain(Protocol):
    def calls(self, calls: Sequence[Call], block: int | None = None) -> list[bytes]: ...
    def block_number(self) -> int: ...


class EquityReader:
    """`read(accounts)`: each account's Equity at the head, or why not (str). Readings
    are kept per block: a second read at the same head costs one block-number request."""

    def __init__(
        self, venue: Venue, chain: EquityChain, price: Callable[[str], int | None]
    ) -> None:
        self.venue = venue
        self.chain = chain
        self.price = price
        self._block = -1
        self._kept: dict[str, Equity | str] = {}

    def read(self, accounts: Sequence[str]) -> dict[str, Equity | str]:
        block = self.chain.block_number()
        if block != self._block:
            self._block, self._kept = block, {}
        todo = [a for a in dict.fromkeys(accounts) if a.lower() not in self._kept]
        if todo:
            self._kept.update(self._read(todo, block))
        return {a: self._kept[a.lower()] for a in accounts}

    def _calls(self, account: str) -> list[Call] | None:
        held = self.venue.holdings_call(account)
        balance = self.venue.collateral_calls(account)
        if held is None or not balance:
            return None
        return [held, *balance]

    def _read(self, accounts: Sequence[str], block: int) -> dict[str, Equity | str]:
        out: dict[str, Equity | str] = {}
        calls = {a: self._calls(a) for a in accounts}
        readable = [a for a in accounts if calls[a] is not None]
        for a in accounts:
            if calls[a] is None:
                out[a.lower()] = NO_EQUITY_VENUE
        try:
            flat = [c for a in readable for c in calls[a] or []]
            results = self.chain.calls(flat, block=block) if flat else []
        except ChainError:
            # one account's read reverted: read each alone, so it is that account's answer
            for a in readable:
                out[a.lower()] = self._one(a, calls[a] or [], block)
            return out
        at = 0
        for a in readable:
            n = len(calls[a] or [])
            out[a.lower()] = self._decode(results[at : at + n])
            at += n
        return out

    def _one(self, account: str, calls: list[Call], block: int) -> Equity | str:
        try:
            return self._decode(self.chain.calls(calls, block=block))
        except ChainError as exc:
            return f"unreadable: {exc}"[:200]

    def _decode(self, results: Sequence[bytes]) -> Equity | str:
        try:
            holdings = self.venue.decode_holdings(results[0])
            balance, _ = self.venue.decode_collateral(results[1:])
            return equity(self._block, balance, holdings, self.price)
        except (Unpriced, ConfigError) as exc:
            return str(exc)[:200]
