from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import gmx
from tests.support.flow import Flow
from tests.support.stacks import WorkerSet
from tests.support.venues import VENUES


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def flow(stack: Any, workers: Any) -> Flow:
    """The pipeline on real workers: a helper bound to the session's stack."""
    return Flow(stack, workers)


@pytest.fixture(scope="module")
def gmx_set(stack: Any) -> Iterator[WorkerSet]:
    """A worker set on a fresh local GMX deployment with a dev keeper, for one module."""
    with gmx.kept_worker_set(stack, "e2e-gmx", 19) as ws:
        yield ws


@pytest.fixture(params=VENUES)
def venue_flow(stack: Any, request: pytest.FixtureRequest) -> Flow:
    """`flow` on each venue: the session's workers on the simple router, then `gmx_set`
    (each set up once per module; a module opts in by overriding `flow` with it)."""
    if request.param == "simple":
        return Flow(stack, request.getfixturevalue("workers"))
    ws = request.getfixturevalue("gmx_set")
    return Flow(stack, ws.workers, services=ws.services, env=ws.env)
