"""What every drill shares: its report, its context (local stack or the configured
deployment), a steady signal load, and waiting on the effective mode and on broadcasts."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.adapters.postgres.reads.drills import DrillQueries
from core.domain.sizing import usd_to_e6
from core.drills.local import LocalStack

TERMINAL_SIGNAL = ("done", "rejected")


class DrillFailed(Exception):
    """A drill could not reach the point it judges (a timeout, a fault it could not
    inject): the verdict is FAIL; the message says where it stopped."""


@dataclass
class Report:
    drill: str
    where: str  # "local" (a throwaway stack, the drill injects the fault) or "observe"
    figures: dict[str, Any] = field(default_factory=dict)
    checks: list[tuple[str, bool]] = field(default_factory=list)

    def check(self, what: str, ok: bool) -> None:
        self.checks.append((what, bool(ok)))

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(ok for _, ok in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "drill": self.drill,
            "where": self.where,
            "ok": self.ok,
            "figures": self.figures,
            "checks": [{"check": c, "ok": ok} for c, ok in self.checks],
        }


@dataclass
class Ctx:
    s: Any  # core.bootstrap.Services
    stack: LocalStack | None  # None: observing the configured deployment
    timeout_s: float
    say: Callable[[str], None]

    @property
    def local(self) -> bool:
        return self.stack is not None

    @property
    def q(self) -> DrillQueries:
        return DrillQueries(self.s.db)

    @property
    def period(self) -> float:
        return float(self.s.settings.health_period_s)

    def wait(self, check: Callable[[], Any], what: str, timeout: float | None = None) -> Any:
        deadline = time.monotonic() + (timeout or self.timeout_s)
        while time.monotonic() < deadline:
            got = check()
            if got:
                return got
            time.sleep(0.02)
        raise DrillFailed(f"timed out waiting for {what}")

    def seconds_until_mode(self, live: bool, what: str) -> float:
        """Seconds until this process's verdict is LIVE (or not)."""
        t0 = time.monotonic()
        self.wait(lambda: self.s.mode.verdict().live == live, what)
        return round(time.monotonic() - t0, 3)

    def broadcasts_after(self, since: datetime, at_least: int, what: str) -> int:
        return len(self.wait(lambda: self._at_least(since, at_least), what))

    def _at_least(self, since: datetime, n: int) -> list[datetime] | None:
        got = self.q.broadcasts(since)
        return got if len(got) >= n else None

    def grace(self) -> timedelta:
        """A broadcast whose window opened before the fault may finish inside this."""
        return timedelta(seconds=2 * self.period)


def load_for(ctx: Ctx, every_s: float = 0.25) -> Load | nullcontext[None]:
    """A steady load on a local stack; nothing when observing (production traffic)."""
    return Load(ctx, every_s) if ctx.local else nullcontext()


class Load:
    """Local drills only: one small signal every `every_s` from the stack's leader (each
    fans out to every follower), from a thread, until stopped."""

    def __init__(self, ctx: Ctx, every_s: float = 0.25) -> None:
        assert ctx.stack is not None
        self.ctx = ctx
        self.every_s = every_s
        self.signal_ids: list[str] = []
        self.refused: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="load")

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        assert self.ctx.stack is not None
        while not self._stop.is_set():
            sid = f"drill-{uuid.uuid4().hex[:12]}"
            answer = self.ctx.s.intake.submit(
                {
                    "schema": 1,
                    "signal_id": sid,
                    "leader": self.ctx.stack.leader,
                    "action": "open",
                    "asset": "BTC",
                    "side": "long",
                    "collateral_usd_1e6": usd_to_e6("1"),
                    "leverage_x": 1,
                    "price_usd_1e6": usd_to_e6("100000"),
                },
                source="drill",
            )
            (self.signal_ids if answer.status == "accepted" else self.refused).append(sid)
            self._stop.wait(self.every_s)

    def wait_done(self, timeout_s: float = 120) -> dict[str, int]:
        """Every accepted signal terminal; returns its intents by state."""
        q = self.ctx.q
        ids = list(self.signal_ids)

        def done() -> dict[str, int] | None:
            if any(st not in TERMINAL_SIGNAL for st in q.signal_states(ids).values()):
                return None
            by: dict[str, int] = {}
            for r in q.intents_of_signals(ids):
                by[r["state"]] = by.get(r["state"], 0) + 1
            return by

        return dict(self.ctx.wait(done, "the load's signals to end", timeout_s))
