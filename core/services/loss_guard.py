"""The loss guard (`copytrade.loss_guard`, beat, every COPYTRADE_LOSS_GUARD_PERIOD_S): each
follower with a loss limit has its venue equity read (one batch at one block), its marks
moved (the high-water mark, the day's first reading) and, when its drawdown from the high or
its loss since the day's start crosses the policy's limit, its circuit breaker set — in the
transaction that records the reading, audited with the figures, told to the follower and the
operator. Only an explicit reset lifts it (`follower reset-breaker`), which also starts the
marks again. A follower whose equity cannot be read is skipped this round, alone."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Protocol

from core.domain.equity import Equity, GuardLimits, Marks, advance, breach
from core.domain.errors import TransientError

log = logging.getLogger(__name__)


class GuardStore(Protocol):
    def guarded(self) -> list[tuple[int, str, GuardLimits]]: ...
    def record(
        self,
        follower_id: int,
        advance: Callable[[Marks | None], Marks],
        judge: Callable[[Marks], str | None],
        operator: bool,
    ) -> tuple[Marks, str | None]: ...


class EquitySource(Protocol):
    def read(self, accounts: Sequence[str]) -> dict[str, Equity | str]: ...


def today_utc() -> date:
    return datetime.now(UTC).date()


def check(
    store: GuardStore,
    equity: EquitySource,
    operator: bool,
    today: Callable[[], date] = today_utc,
) -> dict[int, str]:
    """One round; returns the followers tripped now, with why."""
    rows = store.guarded()
    if not rows:
        return {}
    readings = equity.read([account for _, account, _ in rows])
    tripped: dict[int, str] = {}
    for fid, account, limits in rows:
        got = readings[account]
        if isinstance(got, str):
            log.warning("follower %s: equity unreadable, loss guard skipped: %s", fid, got)
            continue
        now = got

        def moved(m: Marks | None, now: Equity = now) -> Marks:
            if m is not None and now.block < m.last_block:
                return m  # an older reading than the one recorded (two rounds at once)
            return advance(m, now.total_usd_1e6, now.block, today())

        def judge(m: Marks, limits: GuardLimits = limits) -> str | None:
            return breach(m, limits)

        try:
            _, why = store.record(fid, moved, judge, operator)
        except TransientError:
            raise
        except Exception:  # noqa: BLE001 - one follower's bad data is its own
            log.exception("follower %s: loss guard failed", fid)
            continue
        if why is not None:
            log.error("follower %s: circuit breaker tripped by the loss guard: %s", fid, why)
            tripped[fid] = why
    return tripped
