"""Shared by the chaos scenarios: a worker set on a fresh database, the batch every scenario
runs, and one fault-free control run of it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from core.services.verify import verify
from tests.support import gmx
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import WorkerSet, live_worker_set

SIGNALS = (("open", "10"), ("increase", "5"), ("decrease", "4"))
SIZINGS = ("ratio:1", "ratio:0.5", "fixed-notional:3", "ratio:2")


@dataclass
class Batch:
    followers: list[tuple[int, str]]
    signal_ids: list[str]


@pytest.fixture(scope="package")
def simple_rig(stack: Any) -> Iterator[WorkerSet]:
    """The chaos worker set on the simple router."""
    with fresh_database("ct_chaos") as url, live_worker_set(stack, "chaos", 9, url) as ws:
        yield ws


# The venues the crash points and double delivery run on: the simple router and the local
# GMX venue with a dev keeper (`COPYTRADE_TEST_CHAOS_VENUES=simple` for the router alone).
VENUES = os.environ.get("COPYTRADE_TEST_CHAOS_VENUES", "simple,gmx").split(",")


@pytest.fixture(scope="module")
def gmx_rig(stack: Any) -> Iterator[WorkerSet]:
    """The chaos worker set on the local GMX venue, a dev keeper filling every request.
    Module-scoped: it and its keeper live only while the module that asks for it runs."""
    with gmx.kept_worker_set(stack, "chaos-gmx", 16) as ws:
        yield ws


@pytest.fixture(params=VENUES)
def rig(request: pytest.FixtureRequest) -> WorkerSet:
    """The chaos worker set on a venue: the simple router, or the local GMX venue
    (two-phase: the same faults, a longer path)."""
    return request.getfixturevalue(f"{request.param}_rig")  # type: ignore[no-any-return]


def start_batch(flow: Flow, dispatch_twice: bool = False) -> Batch:
    leader = flow.leader()
    followers = [flow.follower(leader, sizing=s) for s in SIZINGS]
    ids = []
    for action, usd in SIGNALS:
        p = flow.payload(leader, action, collateral_usd=usd, leverage=2)
        answer = flow.submit(p)
        assert answer["status"] == "accepted"
        if dispatch_twice:  # every task of the chain delivered twice, racing on two workers
            flow.s.intake.dispatcher.dispatch(answer["signal_pk"])
        ids.append(p["signal_id"])
    return Batch(followers, ids)


def signed_rows(flow: Flow, batch: Batch) -> list[dict[str, Any]]:
    """The batch's intents held `signed` (bytes written ahead, not yet sent)."""
    rows = [r for sid in batch.signal_ids for r in flow.q.intents(signal_id=sid)]
    return [r for r in rows if r["state"] == "signed"]


def outcome(flow: Flow, batch: Batch) -> tuple[dict[tuple[int, int], Any], list[int]]:
    for sid in batch.signal_ids:
        flow.wait_done(sid, timeout=90)
    states = {}
    for si, sid in enumerate(batch.signal_ids):
        got = flow.intents(sid)
        for fi, (fid, _) in enumerate(batch.followers):
            states[(fi, si)] = (got[fid]["state"], got[fid]["notional_usd_1e6"])
    return states, [flow.position(a).size_usd_1e6 for _, a in batch.followers]


def assert_verified(flow: Flow) -> Any:
    s = flow.s
    report = verify(s.audit_queries, s.chain, s.venue, s.settings.max_signal_age_s)
    assert report.breaches == []
    return report


def _control(stack: Any, ws: WorkerSet) -> tuple[dict[tuple[int, int], Any], list[int]]:
    flow = Flow(stack, ws.workers, services=ws.services)
    result = outcome(flow, start_batch(flow))
    assert {state for state, _ in result[0].values()} == {"confirmed"}
    return result


@pytest.fixture(scope="package")
def control(stack: Any, simple_rig: WorkerSet) -> tuple[dict[tuple[int, int], Any], list[int]]:
    """One fault-free run of the batch on the simple router (scenarios on their own sets)."""
    return _control(stack, simple_rig)


@pytest.fixture(scope="module")
def gmx_control(stack: Any, gmx_rig: WorkerSet) -> tuple[dict[tuple[int, int], Any], list[int]]:
    """One fault-free run of the batch on the GMX venue."""
    return _control(stack, gmx_rig)


@pytest.fixture
def rig_control(rig: WorkerSet, request: pytest.FixtureRequest) -> Any:
    """The fault-free run on `rig`'s venue."""
    venue = request.node.callspec.params["rig"]
    return request.getfixturevalue("control" if venue == "simple" else f"{venue}_control")
