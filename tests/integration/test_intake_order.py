"""Sequence by commit, not by id: two producers submit signals of one leader at once; the
first is held at `intake.before_commit` (its row inserted, its id taken, not committed).
The second must not become visible before it: a BIGSERIAL hands out ids in allocation
order, not commit order, and the sequence gate orders a leader's signals by id — a later
signal (a close) visible before an earlier one (its open) would be sized first."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from core.bootstrap import Services
from core.domain.errors import NotFound
from core.domain.signals import parse_signal
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.pauses import paused
from tests.support.stacks import settings_with


@pytest.fixture
def own(stack: Any) -> Iterator[Flow]:
    with fresh_database("ct_order") as url:
        s = Services(settings_with({**stack.env, "COPYTRADE_DATABASE_URL": url}))
        yield Flow(stack, services=s)
        s.db.dispose()


def test_a_later_signal_of_a_leader_is_never_visible_before_an_earlier_one(own: Flow) -> None:
    s = own.s
    leader = own.leader()
    own.follower(leader)
    lid = s.registry.leader_id(leader)
    assert lid is not None
    first = parse_signal(own.payload(leader, action="open"))
    later = parse_signal(own.payload(leader, action="close"))
    pks: dict[str, int] = {}

    def submit(name: str, spec: Any) -> None:
        pks[name] = s.signals.insert_signal(spec, lid, "test")[1]

    seen_early: list[str] = []
    with paused(own.stack.dir / "pause", "intake.before_commit") as point:
        a = threading.Thread(target=submit, args=("first", first))
        a.start()
        point.wait_reached()  # the open's row is in, uncommitted
        b = threading.Thread(target=submit, args=("later", later))
        b.start()
        time.sleep(1.0)
        try:
            own.q.signal(later.signal_id)
            seen_early.append(later.signal_id)  # the close committed before its open
        except NotFound:
            pass
        point.release()
        a.join(10)
        b.join(10)
    assert seen_early == []
    assert pks["first"] < pks["later"]
    s.pipeline.validate(pks["later"])
    assert s.pipeline.size(pks["later"]) == (0, 1)  # gated until the open is expanded
