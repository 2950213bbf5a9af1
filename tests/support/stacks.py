"""Extra worker sets for tests that need their own broker, mode store or profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from config.settings import get_settings
from core.bootstrap import Services
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
