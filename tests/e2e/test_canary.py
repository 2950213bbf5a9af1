"""The canary profile: its caps over every policy, and DRY outside the live cohort."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.flow import Flow
from tests.support.stacks import WorkerSet, start_worker_set


@pytest.fixture
def canary(stack: Any) -> Iterator[WorkerSet]:
    ws = start_worker_set(stack, "canary", broker_db=6, n_workers=1, COPYTRADE_PROFILE="canary")
    yield ws
    ws.stop()


def test_cohort_follower_is_mined_outsider_dry_runs_and_over_cap_is_rejected(
    stack: Any, canary: WorkerSet
) -> None:
    flow = Flow(stack, canary.workers, services=canary.services)
    leader = flow.leader()
    inside, inside_addr = flow.follower(leader)
    outside, outside_addr = flow.follower(leader)
    flow.s.registry.set_follower_flags(outside, "pytest", "canary", in_cohort=False)
    over, over_addr = flow.follower(leader, sizing="ratio:1.002")
    p = flow.payload(leader, collateral_usd="5", leverage=2)  # exactly the 10 USD cap
    assert flow.submit(p)["status"] == "accepted"
    flow.wait_done(p["signal_id"])
    got = flow.intents(p["signal_id"])
    assert (got[inside]["state"], got[inside]["notional_usd_1e6"]) == ("confirmed", 10_000_000)
    assert got[outside]["state"] == "dry_run"
    assert got[outside]["nonce"] is None
    assert (got[over]["state"], got[over]["reason"]) == ("rejected", "profile_max_order_notional")
    assert flow.position(inside_addr).size_usd_1e6 == 10_000_000
    assert flow.position(outside_addr).size_usd_1e6 == 0
    assert flow.position(over_addr).size_usd_1e6 == 0
    assert flow.s.chain.nonce(outside_addr, "pending") == 0
