"""Extra worker sets for tests that need their own broker, mode store or profile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from config.settings import get_settings
from core.bootstrap import Services
from core.domain.types import Mode
from tests.support import procs


def settings_with(env: dict[str, str]) -> Any:
    base = get_settings()
    update = {
        k.removeprefix("COPYTRADE_").lower(): v
        for k, v in env.items()
        if k.startswith("COPYTRADE_")
    }
    return type(base)(**{**base.model_dump(), **update})


@dataclass
class WorkerSet:
    env: dict[str, str]
    dir: Path
    workers: list[procs.Proc] = field(default_factory=list)
    others: list[procs.Proc] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return Services(settings_with(self.env))

    def stop(self) -> None:
        for p in [*self.workers, *self.others]:
            p.stop()


def start_worker_set(
    stack: Any,
    name: str,
    broker_db: int,
    n_workers: int = 2,
    heartbeat: bool = False,
    beats: int = 1,
    broker_url: str | None = None,
    **overrides: str,
) -> WorkerSet:
    """Workers + beat (+ heartbeat) on broker DB `broker_db` of the session's redis."""
    broker = broker_url or stack.env["COPYTRADE_BROKER_URL"].rsplit("/", 1)[0] + f"/{broker_db}"
    redis.Redis.from_url(broker).flushdb()
    env = {**stack.env, "COPYTRADE_BROKER_URL": broker, **overrides}
    d = stack.dir / name
    d.mkdir(exist_ok=True)
    ws = WorkerSet(env, d)
    try:
        if heartbeat:
            ws.others.append(procs.start_heartbeat(d, env, name))
        ws.workers = [procs.start_worker(d, env, f"{name}{i}") for i in range(n_workers)]
        for b in range(beats):
            ws.others.append(procs.start_beat(d, env, f"beat{b}"))
    except BaseException:
        ws.stop()
        raise
    return ws


# A reconciler that notices a stopped chain within seconds (tests wait at most 90 s).
FAST_RECONCILE = {"COPYTRADE_RECONCILE_PERIOD_S": "1", "COPYTRADE_RECONCILE_IDLE_AFTER_S": "3"}


@contextmanager
def live_worker_set(
    stack: Any, name: str, broker_db: int, database_url: str, **kwargs: Any
) -> Iterator[WorkerSet]:
    """`start_worker_set` on `database_url` with FAST_RECONCILE (kwargs override it), LIVE
    requested; stopped on the way out."""
    ws = start_worker_set(
        stack, name, broker_db, COPYTRADE_DATABASE_URL=database_url, **{**FAST_RECONCILE, **kwargs}
    )
    try:
        ws.services.mode.request(Mode.LIVE, "pytest", name)
        yield ws
    finally:
        ws.stop()
