"""Two chains of one signal race through `build`: the first has run its checks (canary
cohort, mode, signer, gas) when a second chain sizes another follower's intent of the same
signal (a follower gated behind the signal ahead, woken when that one ends). The first
build signs only what it checked; the late intent gets its own check.

Driven step by step in this process on the real PostgreSQL, Redis heartbeat and anvil,
the first build held at the pause point `build.after_check` in a thread."""

from __future__ import annotations

import threading
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


@pytest.fixture
def canary(stack: Any) -> Iterator[Flow]:
    """The canary profile on a database of its own (nothing left behind for the session)."""
    with fresh_database("ct_race") as url:
        s = Services(
            settings_with(
                {**stack.env, "COPYTRADE_DATABASE_URL": url, "COPYTRADE_PROFILE": "canary"}
            )
        )
        s.mode.request(Mode.LIVE, "pytest", "build race")
        yield Flow(stack, services=s)
        s.db.engine.dispose()


def expanded(flow: Flow, leader: str, asset: str) -> int:
    spec = parse_signal(
        flow.payload(
            leader,
            asset=asset,
            collateral_usd="5",
            leverage=2,
            price_usd="3000" if asset == "ETH" else "100000",
        )
    )
    s = flow.s
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    return pk


@pytest.mark.parametrize(
    ("late", "state", "reason"),
    [("outside_cohort", "dry_run", None), ("unaffordable", "rejected", "insufficient_funds")],
)
def test_build_signs_only_the_intents_its_own_check_passed(
    canary: Flow, late: str, state: str, reason: str | None
) -> None:
    flow, s = canary, canary.s
    leader = flow.leader()
    early, _ = flow.follower(leader, assets="BTC")  # no part in the ETH signal ahead
    gated, gated_addr = flow.follower(leader, eth=0 if late == "unaffordable" else 10)
    if late == "outside_cohort":
        s.registry.set_follower_flags(gated, "pytest", "race", in_cohort=False)
    s.nonces.init_signers({gated_addr: 0}, 31337)  # the follower's wallet is known (traded before)
    ahead = expanded(flow, leader, "ETH")
    behind = expanded(flow, leader, "BTC")
    assert s.pipeline.size(ahead) == (2, 0)  # early rejected (asset), gated created
    assert s.pipeline.size(behind) == (1, 1)  # early sized; gated waits for the one ahead
    built: list[int] = []
    with paused(flow.stack.dir / "pause", "build.after_check") as point:
        first = threading.Thread(target=lambda: built.append(s.pipeline.build(behind)))
        first.start()
        point.wait_reached()  # the first chain checked early's intent only
        s.pipeline.build(ahead)  # the signal ahead: gated's earlier intent ends
        assert s.pipeline.size(behind) == (1, 0)  # the second chain sizes gated's intent
        point.release()
        first.join(30)
    assert built == [1]
    by_follower = {i["follower_id"]: i for i in flow.q.intents(signal_id=_sid(flow, behind))}
    assert by_follower[early]["state"] == "signed"
    assert (by_follower[gated]["state"], by_follower[gated]["nonce"]) == ("created", None)
    s.pipeline.build(behind)  # the second chain's own check
    (mine,) = [i for i in flow.q.intents(signal_id=_sid(flow, behind)) if i["follower_id"] == gated]
    assert (mine["state"], mine["nonce"]) == (state, None)
    assert (mine["reason"] or "").split(":")[0] == (reason or "")
    assert s.chain.nonce(gated_addr, "pending") == 0


def _sid(flow: Flow, pk: int) -> str:
    return flow.s.signals.signal(pk).signal_id
