"""The service tier: the executor's rules on in-memory fakes of the ports (fakes.py).
No PostgreSQL, node, broker or Redis; no sleeps: time is a fixture."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

import core.services.execution
import core.services.mode
from tests.service.fakes import Clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """time.monotonic as the mode service and the pipeline see it, frozen."""
    c = Clock()
    fake = SimpleNamespace(monotonic=c.monotonic, time=time.time, sleep=time.sleep)
    monkeypatch.setattr(core.services.mode, "time", fake)
    monkeypatch.setattr(core.services.execution, "time", fake)
    return c
