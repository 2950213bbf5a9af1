"""The signal's age is a hard limit at every step, LIVE included: a signal that passed
`validate` but is older than COPYTRADE_MAX_SIGNAL_AGE_S when a later step runs is neither
sized, nor signed, nor broadcast. Each case lets the age pass just before one step, so the
test fails when that step's check alone is removed. Driven step by step in this process on
the real PostgreSQL, Redis heartbeat and anvil."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from core.bootstrap import Services
from core.domain.signals import parse_signal
from core.domain.types import Mode
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.pauses import paused
from tests.support.stacks import settings_with

MAX_AGE_S = 2


@pytest.fixture
def aged(stack: Any) -> Iterator[Flow]:
    with fresh_database("ct_age") as url:
        env = {
            **stack.env,
            "COPYTRADE_DATABASE_URL": url,
            "COPYTRADE_MAX_SIGNAL_AGE_S": str(MAX_AGE_S),
        }
        s = Services(settings_with(env))
        s.mode.request(Mode.LIVE, "pytest", "age limit")
        yield Flow(stack, services=s)
        s.db.dispose()


def validated(flow: Flow) -> tuple[int, str, str]:
    leader = flow.leader()
    _, address = flow.follower(leader)
    spec = parse_signal(flow.payload(leader, collateral_usd="10", leverage=1))
    s = flow.s
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    return pk, spec.signal_id, address


def grow_old() -> None:
    time.sleep(MAX_AGE_S + 0.3)


def intent(flow: Flow, signal_id: str) -> dict[str, Any]:
    (row,) = flow.q.intents(signal_id=signal_id)
    return row


def test_too_old_at_size_is_rejected_stale_before_sizing(aged: Flow) -> None:
    pk, sid, _ = validated(aged)
    grow_old()
    assert aged.s.pipeline.size(pk) == (0, 0)
    row = intent(aged, sid)
    assert (row["state"], row["reason"], row["nonce"]) == ("rejected", "stale", None)


def test_too_old_at_check_mode_is_rejected_stale_under_live(aged: Flow) -> None:
    pk, sid, _ = validated(aged)
    assert aged.s.pipeline.size(pk) == (1, 0)
    assert aged.s.mode.verdict().live
    grow_old()
    assert aged.s.pipeline.check_mode(pk) == 0
    row = intent(aged, sid)
    assert (row["state"], row["reason"], row["nonce"]) == ("rejected", "stale", None)


def test_too_old_by_the_time_it_is_signed_takes_no_nonce(aged: Flow) -> None:
    pk, sid, address = validated(aged)
    s = aged.s
    assert s.pipeline.size(pk) == (1, 0)
    built: list[int] = []
    with paused(aged.stack.dir / "pause", "build.after_check") as point:
        t = threading.Thread(target=lambda: built.append(s.pipeline.build(pk)))
        t.start()
        point.wait_reached()  # checked while young enough
        grow_old()
        point.release()
        t.join(30)
    assert built == [0]
    row = intent(aged, sid)
    assert (row["state"], row["reason"], row["nonce"]) == ("rejected", "stale", None)
    assert s.chain.nonce(address, "pending") == 0


def test_too_old_by_the_time_it_is_sent_is_not_broadcast(aged: Flow) -> None:
    pk, sid, address = validated(aged)
    s = aged.s
    s.pipeline.size(pk)
    assert s.pipeline.build(pk) == 1
    grow_old()
    assert s.pipeline.send(pk) == 0
    row = intent(aged, sid)
    assert row["state"] == "signed"  # its nonce is given back by the no-op cancel
    assert not s.chain.known([row["tx_hash"]])
    assert s.maintenance.cancel_stale_signed() == 1
    assert aged.q.intent(row["id"])["state"] == "cancelling"
