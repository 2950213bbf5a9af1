"""Producer answers on the real database: accepted, duplicate, conflict, rejected."""

from __future__ import annotations

from typing import Any

import pytest
from celery import Celery

from core.adapters.celery_dispatch import CeleryDispatcher
from core.domain.errors import NotFound
from core.services.intake import Intake
from tests.support.flow import Flow
from tests.support.procs import free_port


@pytest.fixture
def flow(stack: Any) -> Flow:
    return Flow(stack)


def test_resubmitting_the_same_signal_is_a_duplicate_and_changed_content_a_conflict(
    flow: Flow,
) -> None:
    leader = flow.leader()
    p = flow.payload(leader)
    assert flow.submit(p)["status"] == "accepted"
    assert flow.submit(dict(p))["status"] == "duplicate"
    changed = flow.submit({**p, "leverage_x": p["leverage_x"] + 1})
    assert (changed["status"], changed["reason"]) == ("conflict", "content differs")
    assert flow.q.signal(p["signal_id"])["leverage_x"] == p["leverage_x"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"leverage_x": 0}, "out_of_range"),
        ({"collateral_usd_1e6": -5}, "out_of_range"),
        ({"collateral_usd_1e6": "100"}, "bad_field"),
        ({"action": "flip"}, "bad_field"),
        ({"leader": "0x1234"}, "bad_address"),
        ({"asset": "btc"}, "bad_asset"),
        ({"surprise": 1}, "unknown_field"),
        ({"schema": 2}, "bad_schema"),
    ],
)
def test_bad_payloads_are_rejected_with_a_reason_and_write_nothing(
    flow: Flow, change: dict[str, Any], reason: str
) -> None:
    p = {**flow.payload(flow.leader()), **change}
    answer = flow.submit(p)
    assert (answer["status"], answer["reason"]) == ("rejected", reason)
    assert flow.q.intents(signal_id=p["signal_id"]) == []
    with pytest.raises(Exception, match="does not exist"):
        flow.q.signal(p["signal_id"])


def test_unknown_leader_is_rejected(flow: Flow) -> None:
    from tests.support.chain import random_address

    answer = flow.submit(flow.payload(random_address()))
    assert (answer["status"], answer["reason"]) == ("rejected", "unknown_leader")


def test_broker_down_still_answers_accepted_with_the_row_committed(flow: Flow) -> None:
    dead = Celery("dead", broker=f"redis://127.0.0.1:{free_port()}/0")
    dead.conf.broker_connection_retry = False
    dead.conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0}
    intake = Intake(flow.s.registry, flow.s.signals, CeleryDispatcher(dead))
    p = flow.payload(flow.leader())
    answer = intake.submit(p, source="test").as_dict()
    assert (answer["status"], answer["dispatched"]) == ("accepted", False)
    assert flow.q.signal(p["signal_id"])["state"] == "accepted"


def test_issued_at_in_the_future_beyond_the_skew_is_rejected_and_within_it_accepted(
    flow: Flow,
) -> None:
    import time

    leader = flow.leader()
    far = flow.payload(leader) | {"issued_at": 32503680000}  # the year 3000
    answer = flow.submit(far)
    assert (answer["status"], answer["reason"]) == ("rejected", "future_issued_at")
    with pytest.raises(NotFound):  # nothing written
        flow.q.signal(far["signal_id"])
    skew = flow.s.settings.max_future_skew_s
    just = flow.payload(leader) | {"issued_at": int(time.time()) + skew + 3}
    assert flow.submit(just)["reason"] == "future_issued_at"
    near = flow.payload(leader) | {"issued_at": int(time.time()) + skew - 2}
    assert flow.submit(near)["status"] == "accepted"
