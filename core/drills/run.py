"""Running drills: on a throwaway local stack (the default) or observing the configured
deployment (--observe). Ctrl-C stops everything the drill started."""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.demo.embedded import INTERRUPTED, Interrupted
from core.drills.base import Ctx, DrillFailed, Report
from core.drills.chain import duplicate_signal, stuck_tx
from core.drills.local import LocalStack
from core.drills.mode import emergency_stop, redis_failover, redis_recovery

DRILLS: dict[str, Callable[..., Report]] = {
    "duplicate-signal": duplicate_signal,
    "emergency-stop": emergency_stop,
    "redis-failover": redis_failover,
    "redis-recovery": redis_recovery,
    "stuck-tx": stuck_tx,
}
TAKES_FAULT = ("redis-failover", "redis-recovery")


def expand(names: Sequence[str]) -> list[str]:
    """Drill names in the order given ("all": every drill); unknown names are an error."""
    out: list[str] = []
    for n in names:
        for name in DRILLS if n == "all" else [n]:
            if name not in DRILLS:
                raise ValueError(f"unknown drill {name!r}: one of all, {', '.join(DRILLS)}")
            if name not in out:
                out.append(name)
    return out


def run_one(ctx: Ctx, name: str, fault: str | None = None) -> Report:
    fn = DRILLS[name]
    try:
        if fault is not None and name in TAKES_FAULT:
            return fn(ctx, fault)
        return fn(ctx)
    except DrillFailed as exc:
        r = Report(name, "local" if ctx.local else "observe")
        r.check(str(exc), False)
        return r


def run_local(
    names: Sequence[str],
    fault: str | None,
    same_redis: bool,
    timeout_s: float,
    say: Callable[[str], None],
    on_report: Callable[[Report], None],
    keep: bool = False,
    venue: str = "simple",
) -> list[Report]:
    """Start a throwaway stack on `venue`, run the drills on it one after another, stop it."""
    signal.signal(signal.SIGINT, lambda *_: INTERRUPTED.set())
    signal.signal(signal.SIGTERM, lambda *_: INTERRUPTED.set())
    tmp = Path(tempfile.mkdtemp(prefix="copytrade-drill-"))
    stack = LocalStack(tmp, same_redis=same_redis, venue=venue)
    reports: list[Report] = []
    try:
        say(
            f"starting a throwaway stack in {tmp} on the {venue} venue (mode store "
            f"{'shared with' if same_redis else 'separate from'} the broker)"
        )
        s = stack.start()
        ctx = Ctx(s, stack, timeout_s, say)
        for name in names:
            if INTERRUPTED.is_set():
                raise Interrupted
            say(f"drill {name}")
            reports.append(run_one(ctx, name, fault))
            on_report(reports[-1])
    finally:
        stack.stop()
        if keep:
            say(f"kept {tmp} (logs in {tmp / 'logs'})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return reports


def run_observe(
    names: Sequence[str],
    timeout_s: float,
    say: Callable[[str], None],
    on_report: Callable[[Report], None],
    services: Any,
) -> list[Report]:
    ctx = Ctx(services, None, timeout_s, say)
    reports = []
    for name in names:
        say(f"drill {name} (observing)")
        reports.append(run_one(ctx, name))
        on_report(reports[-1])
    return reports
