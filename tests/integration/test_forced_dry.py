"""Forced DRY (LIVE requested, mode store unreachable): intents wait, never become dry runs;
past the signal's max age a created one ends rejected(stale), a signed one stays signed."""

from __future__ import annotations

import time
from typing import Any

import pytest

from core.bootstrap import Services
from core.domain.errors import UnsafeToSend
from core.domain.signals import parse_signal
from tests.support.flow import Flow
from tests.support.procs import free_port
from tests.support.stacks import settings_with

MAX_AGE = 3


def services(stack: Any, mode_store_ok: bool) -> Services:
    env = {**stack.env, "COPYTRADE_MAX_SIGNAL_AGE_S": str(MAX_AGE)}
    if not mode_store_ok:
        env["COPYTRADE_MODE_REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    return Services(settings_with(env))


def test_created_intents_wait_then_turn_stale_never_dry_run(stack: Any) -> None:
    s = services(stack, mode_store_ok=False)
    flow = Flow(stack, services=s)
    leader = flow.leader()
    fid, _ = flow.follower(leader)
    spec = parse_signal({**flow.payload(leader), "issued_at": int(time.time()) - MAX_AGE + 2})
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    s.pipeline.size(pk)
    with pytest.raises(UnsafeToSend, match="mode_store_unreadable"):
        s.pipeline.check_mode(pk)
    assert flow.intents(spec.signal_id)[fid]["state"] == "created"
    time.sleep(2.5)  # past the max age
    assert s.pipeline.check_mode(pk) == 0
    got = flow.intents(spec.signal_id)[fid]
    assert (got["state"], got["reason"]) == ("rejected", "stale")


def test_signed_intents_past_max_age_stay_signed_and_are_reported(stack: Any) -> None:
    ok = services(stack, mode_store_ok=True)
    flow = Flow(stack, services=ok)
    leader = flow.leader()
    fid, address = flow.follower(leader)
    spec = parse_signal({**flow.payload(leader), "issued_at": int(time.time()) - MAX_AGE + 2})
    _, pk = ok.signals.insert_signal(spec, ok.registry.leader_id(leader), "test")
    ok.pipeline.validate(pk)
    ok.pipeline.size(pk)
    assert ok.pipeline.build(pk) == 1
    down = services(stack, mode_store_ok=False)
    with pytest.raises(UnsafeToSend):
        down.pipeline.send(pk)
    time.sleep(2.5)
    assert down.pipeline.send(pk) == 0  # no retry loop past max age ...
    assert flow.intents(spec.signal_id)[fid]["state"] == "signed"  # ... and the nonce kept
    assert flow.q.signed_past_age(MAX_AGE) >= 1
    assert ok.chain.nonce(address, "pending") == 0
