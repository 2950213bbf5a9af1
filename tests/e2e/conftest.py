from __future__ import annotations

from typing import Any

import pytest

from tests.support.flow import Flow


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def flow(stack: Any, workers: Any) -> Flow:
    """The pipeline on real workers: a helper bound to the session's stack."""
    return Flow(stack, workers)
