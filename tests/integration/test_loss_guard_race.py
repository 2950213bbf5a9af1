"""The loss guard's trip against the operator's reset of the same follower, held open at
`guard.before_trip` (the reading recorded, the marks row locked, the breaker not yet set)
while the reset runs: both finish — no deadlock between the marks row and the follower
row (both take the follower row first) — and the reset, committed last, wins: the breaker
is off and the marks start again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from core.adapters.postgres.guards import GuardStore
from core.domain.equity import GuardLimits, Marks, advance, breach
from core.domain.types import USD
from tests.support.flow import Flow, own_flow
from tests.support.pauses import paused

LIMIT = GuardLimits(max_drawdown_bps=1_000)
DAY = date(2026, 12, 6)


@pytest.fixture
def flow(stack: Any) -> Iterator[Flow]:
    with own_flow(stack, "ct_guard_race") as f:
        yield f


def reading(usd: int, block: int) -> Any:
    def moved(m: Marks | None) -> Marks:
        return advance(m, usd * USD, block, DAY)

    return moved


def test_a_trip_and_a_reset_at_once_both_finish_and_the_reset_wins(flow: Flow, stack: Any) -> None:
    fid, _ = flow.follower(flow.leader())
    store = GuardStore(flow.s.db)
    store.record(fid, reading(100, 1), lambda m: breach(m, LIMIT), False)
    errors: list[BaseException] = []

    def trip() -> None:
        try:
            store.record(fid, reading(80, 2), lambda m: breach(m, LIMIT), False)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def reset() -> None:
        try:
            flow.s.registry.set_follower_flags(fid, "pytest", "reset", circuit_breaker=False)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with paused(flow.stack.dir / "pause", "guard.before_trip") as point:
        a = threading.Thread(target=trip)
        a.start()
        point.wait_reached()
        b = threading.Thread(target=reset)
        b.start()
        b.join(1.5)  # the reset waits for the trip's transaction (or deadlocks with it)
        point.release()
        a.join(30)
        b.join(30)
    assert errors == []
    assert not flow.s.registry.follower(fid).circuit_breaker
    # the marks start again: 80 is the new high, no drawdown
    marks, why = store.record(fid, reading(80, 3), lambda m: breach(m, LIMIT), False)
    assert (marks.high_water_usd_1e6, why) == (80 * USD, None)
