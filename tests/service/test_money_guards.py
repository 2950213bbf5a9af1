"""The loss guard's round and flattening a follower, on in-memory ports: one follower's
unreadable equity or broken row never stops another's trip; a reading older than the one
recorded moves no mark; a venue that cannot list positions (the recorder) is read asset by
asset; a position whose operator close is still open is not closed twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from core.domain.equity import Equity, GuardLimits, Holding, Marks
from core.domain.errors import ConfigError
from core.domain.risk import Policy
from core.domain.rows import FollowerRow
from core.domain.signals import SignalSpec
from core.domain.sizing import parse_sizing
from core.domain.types import USD
from core.domain.venue import Call, Position
from core.services import loss_guard
from core.services.flatten import Flattener
from tests.service.fakes import FakeDispatcher
from tests.service.fakes_chain import FakeChain, FakeVenue

DAY = date(2026, 12, 6)


class Guards:
    def __init__(self, rows: list[tuple[int, str, GuardLimits]]) -> None:
        self.rows = rows
        self.marks: dict[int, Marks] = {}
        self.breakers: set[int] = set()
        self.broken: set[int] = set()

    def guarded(self) -> list[tuple[int, str, GuardLimits]]:
        return [r for r in self.rows if r[0] not in self.breakers]

    def record(
        self,
        follower_id: int,
        advance: Callable[[Marks | None], Marks],
        judge: Callable[[Marks], str | None],
        operator: bool,
    ) -> tuple[Marks, str | None]:
        if follower_id in self.broken:
            raise ValueError("bad row")
        m = self.marks[follower_id] = advance(self.marks.get(follower_id))
        why = judge(m)
        if why is not None and follower_id not in self.breakers:
            self.breakers.add(follower_id)
            return m, why
        return m, None


class Readings:
    def __init__(self, values: dict[str, Equity | str]) -> None:
        self.values = values

    def read(self, accounts: Sequence[str]) -> dict[str, Equity | str]:
        return {a: self.values[a] for a in accounts}


def eq(block: int, usd: int) -> Equity:
    return Equity(block, usd * USD, 0)


def test_one_followers_trouble_never_stops_anothers_trip() -> None:
    limit = GuardLimits(max_drawdown_bps=1_000)
    store = Guards([(1, "0xa", limit), (2, "0xb", limit), (3, "0xc", limit)])
    first = Readings({"0xa": eq(1, 100), "0xb": eq(1, 100), "0xc": eq(1, 100)})
    assert loss_guard.check(store, first, False, lambda: DAY) == {}
    store.broken.add(1)
    later = Readings({"0xa": eq(2, 50), "0xb": "no price for ETH", "0xc": eq(2, 80)})
    tripped = loss_guard.check(store, later, False, lambda: DAY)
    assert list(tripped) == [3]
    assert tripped[3].startswith("max_drawdown: equity 80 is 20 USD (2000 bps)")
    assert store.marks[2].last_usd_1e6 == 100 * USD  # unread: its marks stay


def test_a_reading_older_than_the_one_recorded_moves_no_mark() -> None:
    store = Guards([(1, "0xa", GuardLimits(max_daily_loss_usd_1e6=10 * USD))])
    loss_guard.check(store, Readings({"0xa": eq(5, 100)}), False, lambda: DAY)
    assert loss_guard.check(store, Readings({"0xa": eq(4, 10)}), False, lambda: DAY) == {}
    assert store.marks[1].last_block == 5


class Closes:
    def __init__(self, follower: FollowerRow) -> None:
        self.f = follower
        self.open: dict[tuple[str, str], str] = {}
        self.inserted: list[tuple[SignalSpec, int | None]] = []
        self.audits: list[tuple[str, dict[str, Any]]] = []

    def follower(self, follower_id: int) -> FollowerRow:
        return self.f

    def traded_assets(self, follower_id: int) -> list[str]:
        return ["SOL"]  # traded once, no longer allowed: still read

    def open_close(self, follower_id: int, asset: str, side: str) -> str | None:
        return self.open.get((asset, side))

    def insert_signal(
        self, spec: SignalSpec, leader_id: int, source: str, follower_id: int | None = None
    ) -> tuple[str, int]:
        self.inserted.append((spec, follower_id))
        return "accepted", len(self.inserted)

    def audit(self, actor: str, action: str, reason: str | None, **details: Any) -> None:
        self.audits.append((action, details))


def test_the_recorder_is_read_asset_by_asset_and_an_open_close_is_not_repeated() -> None:
    policy = Policy(10, 10**12, frozenset({"BTC", "ETH"}), parse_sizing("ratio:1"))
    f = FollowerRow(7, 1, 3, "0x" + "1e" * 20, "0x" + "aa" * 20, "env:K", True, False, True,
                    policy)  # fmt: skip
    venue, chain = FakeVenue(), FakeChain()
    for asset, pos in (("BTC", b"[false, 5000000, 1000000]"), ("SOL", b"[true, 1, 1]")):
        chain.call_results[venue.position_call(f.account, asset).data] = pos
    store, dispatcher = Closes(f), FakeDispatcher()
    store.open[("SOL", "long")] = "close-all:7:SOL:long:abc"
    out = Flattener(store, venue, chain, dispatcher, "operator").close_all(7, "left", "ops")
    assert [(c.asset, c.side, c.status) for c in out] == [
        ("BTC", "short", "accepted"),
        ("SOL", "long", "already_closing"),
    ]
    ((spec, target),) = store.inserted
    assert (spec.action.value, spec.asset, spec.side.value, target) == ("close", "BTC", "short", 7)
    assert dispatcher.dispatched == [(1, "validate")]
    assert store.audits == [("follower.close_all", {"follower_id": 7, "signals": [
        out[0].signal_id, "close-all:7:SOL:long:abc"]})]  # fmt: skip


class UnknownMarketVenue(FakeVenue):
    """A GMX-like venue (sides apart, one list of every position) whose list holds a market
    copytrade has no configuration for."""

    sides_apart = True

    def holdings_call(self, account: str) -> Call:
        return Call("0xreader", b"holdings")

    def decode_holdings(self, result: bytes) -> list[Holding]:
        raise ConfigError("0xabc holds a position in market 0xdead, which copytrade does not know")

    def decode_position(self, asset: str, result: bytes, is_long: bool | None = None) -> Position:
        held = {("BTC", False): Position(False, 5 * USD, USD, 5)}
        return held.get((asset, bool(is_long)), Position(False, 0, 0))


def test_close_all_closes_the_configured_markets_when_one_is_unknown() -> None:
    policy = Policy(10, 10**12, frozenset({"BTC", "ETH"}), parse_sizing("ratio:1"))
    f = FollowerRow(8, 1, 3, "0x" + "1e" * 20, "0x" + "aa" * 20, "env:K", False, False, True,
                    policy)  # fmt: skip
    store = Closes(f)
    out = Flattener(store, UnknownMarketVenue(), FakeChain(), FakeDispatcher(), "operator")
    closing = out.close_all(8, "left", "ops")
    assert [(c.asset, c.side) for c in closing] == [("BTC", "short")]
