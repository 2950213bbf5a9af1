"""A worker set on either venue: what a safety suite written once runs on twice."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support import gmx
from tests.support.databases import fresh_database
from tests.support.stacks import WorkerSet, live_worker_set

VENUES = ("simple", "gmx")


@contextmanager
def worker_set_on(
    venue: str, stack: Any, name: str, broker_db: int, **kwargs: Any
) -> Iterator[WorkerSet]:
    """`live_worker_set` on a fresh database: on the session's simple router, or on a fresh
    local GMX deployment with a dev keeper filling every request."""
    if venue == "gmx":
        with gmx.kept_worker_set(stack, f"{name}-gmx", broker_db, **kwargs) as ws:
            yield ws
        return
    with (
        fresh_database(f"ct_{name.replace('-', '_')}") as url,
        live_worker_set(stack, name, broker_db, url, **kwargs) as ws,
    ):
        yield ws
