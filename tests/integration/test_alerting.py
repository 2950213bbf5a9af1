"""What needs a person reaches the operator's channel through the outbox, once per episode:
the emergency stop (and every follower with a destination hears its copies are paused,
then resumed), forced DRY only once it has lasted its periods; a second round reports
nothing again, two rounds at once report once; with no operator channel set, only the
followers hear of the stop."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from core.adapters.postgres.tables import notifications
from core.domain.types import Mode
from core.services import alerting
from tests.support.flow import Flow, own_flow


@pytest.fixture
def own(stack: Any) -> Iterator[Flow]:
    """Services on a fresh database and a mode store no heartbeat writes to (requested LIVE
    is forced DRY there), with an operator channel."""
    mode_url = stack.env["COPYTRADE_MODE_REDIS_URL"].rsplit("/", 1)[0] + "/27"
    with own_flow(
        stack,
        "ct_alerts",
        COPYTRADE_MODE_REDIS_URL=mode_url,
        COPYTRADE_OPERATOR_NOTIFY_URL="json://127.0.0.1:9/operator",
        COPYTRADE_HEALTH_PERIOD_S="1",
        COPYTRADE_ALERT_FORCED_DRY_PERIODS="3",
    ) as flow:
        yield flow


def reports(flow: Flow) -> list[tuple[str, str]]:
    with flow.s.db.tx() as conn:
        rows = conn.execute(
            select(notifications.c.destination, notifications.c.event).order_by(notifications.c.id)
        ).all()
    return [(r[0], r[1]) for r in rows]


def test_the_stop_is_reported_once_to_the_operator_and_every_follower(own: Flow) -> None:
    s = own.s
    leader = own.leader()
    told, _ = own.follower(leader)
    s.registry.set_notify_url(told, "json://127.0.0.1:9/f", "json://…", "t", None)
    own.follower(leader)  # no destination: hears nothing
    assert alerting.check(s) == {}
    s.mode.stop("pytest", "drill")
    assert alerting.check(s) == {"stop": "opened"}
    assert alerting.check(s) == {}  # the same episode: nothing again
    s.mode.resume("pytest", "drill over")
    assert alerting.check(s) == {"stop": "resolved"}
    assert alerting.check(s) == {}
    assert reports(own) == [
        ("operator", "alert_opened"),
        (f"follower:{told}", "paused"),
        ("operator", "alert_resolved"),
        (f"follower:{told}", "resumed"),
    ]


def test_two_rounds_at_once_report_an_episode_once(own: Flow) -> None:
    own.s.mode.stop("pytest", "drill")
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: alerting.check(own.s), range(4)))
    assert sum(1 for g in got if g.get("stop") == "opened") == 1
    assert reports(own).count(("operator", "alert_opened")) == 1
    own.s.mode.resume("pytest", "drill over")


def test_forced_dry_is_reported_once_it_has_lasted_its_periods(own: Flow) -> None:
    own.s.mode.request(Mode.LIVE, "pytest", "forced")  # no heartbeat here: forced DRY
    try:
        assert "forced_dry" not in alerting.check(own.s)  # just begun
        time.sleep(3.2)  # 3 health periods of 1 s
        assert alerting.check(own.s).get("forced_dry") == "opened"
        own.s.mode.request(Mode.DRY, "pytest", "back to DRY")
        assert alerting.check(own.s).get("forced_dry") == "resolved"
    finally:
        own.s.mode.request(Mode.DRY, "pytest", "done")
