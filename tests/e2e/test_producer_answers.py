"""A producer in another service sends `copytrade.submit_signal` by name, as
docs/producers.md shows, and its `.get()` receives the intake's answer from the result
backend: accepted, duplicate, conflict, rejected with the reason. The internal tasks keep
no result."""

from __future__ import annotations

import uuid
from typing import Any

from celery import Celery

from tests.support.chain import random_address
from tests.support.flow import Flow


def producer(stack: Any) -> Celery:
    url = stack.env["COPYTRADE_BROKER_URL"]
    return Celery(broker=url, backend=url)  # what docs/producers.md tells a producer to run


def ask(app: Celery, payload: Any) -> dict[str, Any]:
    result = app.send_task("copytrade.submit_signal", args=[payload], queue="intake")
    answer: dict[str, Any] = result.get(timeout=60)
    return answer


def test_a_producer_s_get_receives_every_kind_of_answer(stack: Any, flow: Flow) -> None:
    app = producer(stack)
    leader = flow.leader()
    payload = flow.payload(leader, collateral_usd="10", leverage=2)

    first = ask(app, payload)
    assert first["status"] == "accepted", first
    assert first["signal_id"] == payload["signal_id"]
    assert first["signal_pk"] == flow.q.signal(payload["signal_id"])["id"]

    again = ask(app, payload)
    assert (again["status"], again["signal_pk"]) == ("duplicate", first["signal_pk"])

    other = ask(app, {**payload, "leverage_x": 3})  # the same signal_id, other content
    assert other["status"] == "conflict", other

    for change, reason in (
        ({"leader": random_address()}, "unknown_leader"),
        ({"leader": leader[:-1]}, "bad_address"),
        ({"leverage_x": 0}, "out_of_range"),
    ):
        answer = ask(app, {**payload, "signal_id": f"p-{uuid.uuid4().hex}", **change})
        assert (answer["status"], answer["reason"]) == ("rejected", reason), answer


def test_the_internal_tasks_keep_no_result(stack: Any, flow: Flow) -> None:
    """Only the producers' answer is stored: the chain steps a signal runs leave no key
    (the keys other tests' tasks left in the shared broker are not looked at)."""
    import redis

    app = producer(stack)
    store = redis.Redis.from_url(stack.env["COPYTRADE_BROKER_URL"])
    before = set(store.keys("celery-task-meta-*"))
    leader = flow.leader()
    flow.follower(leader)
    payload = flow.payload(leader, collateral_usd="10", leverage=2)
    result = app.send_task("copytrade.submit_signal", args=[payload], queue="intake")
    assert result.get(timeout=60)["status"] == "accepted"
    assert flow.wait_done(payload["signal_id"])["state"] == "done"  # six steps ran
    new = set(store.keys("celery-task-meta-*")) - before
    assert new == {f"celery-task-meta-{result.id}".encode()}  # the answer, nothing else
