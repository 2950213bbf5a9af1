"""Follower money guards on real workers, anvil and the local GMX venue: equity-ratio sizing
from both equities read on chain (the collateral token held plus open positions at the
venue's price), recorded on the intent; the loss guard tripping the circuit breaker from a
position's loss; `follower close-all`, close on pause and removal with open positions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from core.domain.types import USD
from tests.support.gmx import FUNDS
from tests.support.gmx_followers import Rig, gmx_rig


@pytest.fixture(scope="module")
def rig(stack: Any) -> Iterator[Rig]:
    with gmx_rig(stack, "guards", 28) as r:
        yield r


def test_equity_ratio_sizes_from_both_equities_read_on_chain(rig: Rig) -> None:
    leader = rig.flow.leader()
    rig.mint(leader, 20_000)  # the leader's equity: 20,000 USDC, no position
    fid, address = rig.flow.follower(leader, sizing="equity-ratio", assets="ETH")
    # follower 100,000 / leader 20,000: five times the leader's 60 USD of collateral
    first = rig.open_eth(leader, "60")[fid]
    assert first["state"] == "confirmed", first
    assert first["collateral_usd_1e6"] == 300 * USD
    assert first["follower_equity_usd_1e6"] == FUNDS
    assert first["leader_equity_usd_1e6"] == 20_000 * USD

    # The follower's equity changes between two signals: its position (300 USD of
    # collateral, 0.3 ETH at the venue's 3000) still counts, and 50,000 USDC more arrive.
    rig.mint(address, 50_000)
    body = rig.flow.payload(
        leader, action="increase", asset="ETH", collateral_usd="60", leverage=3, price_usd="3000"
    )
    second = rig.done(body)[fid]
    assert second["state"] == "confirmed", second
    assert second["follower_equity_usd_1e6"] == FUNDS + 50_000 * USD
    assert second["collateral_usd_1e6"] == 450 * USD  # 60 x 150,000 / 20,000


def test_the_producers_leader_equity_is_used_and_none_at_all_is_rejected(rig: Rig) -> None:
    leader = rig.flow.leader()  # holds nothing on the venue
    fid, _ = rig.flow.follower(leader, sizing="equity-ratio:0.5", assets="ETH")
    given = rig.open_eth(leader, "60", leader_equity_usd_1e6=50_000 * USD)[fid]
    assert given["state"] == "confirmed", given
    assert given["leader_equity_usd_1e6"] == 50_000 * USD
    assert given["collateral_usd_1e6"] == 60 * USD  # 60 x 100,000 / 50,000 x 0.5

    missing = rig.open_eth(leader, "60")[fid]
    assert missing["state"] == "rejected"
    assert missing["reason"].startswith("no_leader_equity: the leader holds nothing there")
    assert missing["nonce"] is None


def test_a_loss_past_the_drawdown_limit_trips_the_breaker_until_reset(rig: Rig) -> None:
    leader = rig.flow.leader()
    fid, address = rig.flow.follower(
        leader, sizing="fixed-notional:90000", assets="ETH", slippage_bps=5000
    )
    assert rig.cli("follower", "set-policy", str(fid), "--max-drawdown-bps", "1000").returncode == 0
    rig.flow.run_task("copytrade.loss_guard")  # the high-water mark: 100,000
    assert not rig.breaker(fid)
    rig.keeper.move_bps = 2_000  # filled 20 % worse: a long of 25 ETH bought at 3600
    try:
        opened = rig.open_eth(leader, "10")[fid]
    finally:
        rig.keeper.move_bps = 0
    assert opened["state"] == "confirmed", opened
    rig.flow.run_task("copytrade.loss_guard")
    # 70,000 USDC + 30,000 collateral - 15,000 loss at 3000 = 85,000: 15 % under the high
    assert rig.breaker(fid)
    (trip,) = [
        r for r in rig.flow.s.audit_queries.audit(limit=50, action="follower.loss_guard")
        if r["action"] == "follower.loss_guard" and r["details"]["follower_id"] == fid
    ]  # fmt: skip
    assert trip["reason"].startswith("max_drawdown: equity 85000 is 15000 USD (1500 bps)")
    assert trip["details"]["high_water_usd_1e6"] == FUNDS

    held = rig.open_eth(leader, "10")[fid]
    assert (held["state"], held["reason"]) == ("rejected", "circuit_breaker")
    rig.flow.run_task("copytrade.loss_guard")  # a tripped follower is not tripped again
    trips = rig.flow.s.audit_queries.audit(limit=50, action="follower.loss_guard")
    assert [r["details"]["follower_id"] for r in trips].count(fid) == 1

    assert rig.cli("follower", "reset-breaker", str(fid), "--reason", "seen").returncode == 0
    rig.flow.run_task("copytrade.loss_guard")  # the marks start again at 85,000
    assert not rig.breaker(fid)
    body = rig.flow.payload(
        leader, action="close", asset="ETH", collateral_usd="0", leverage=1, price_usd="3000"
    )
    assert rig.done(body)[fid]["state"] == "confirmed"
    assert rig.eth(address).size_usd_1e6 == 0


def test_close_all_closes_every_position_and_is_idempotent(rig: Rig) -> None:
    leader = rig.flow.leader()
    fid, address = rig.flow.follower(leader, sizing="ratio:1", assets="ETH,BTC")
    assert rig.open_eth(leader, "60")[fid]["state"] == "confirmed"
    btc = rig.flow.payload(leader, asset="BTC", side="short", collateral_usd="50", leverage=2)
    btc["price_usd_1e6"] = 100_000 * USD
    assert rig.done(btc)[fid]["state"] == "confirmed"
    assert rig.cli("follower", "pause", str(fid), "--keep-positions").returncode == 0

    out = rig.cli("follower", "close-all", str(fid), "--reason", "user left", "--json")
    assert out.returncode == 0, out.stderr
    closing = json.loads(out.stdout)["closing"]
    assert sorted((c["asset"], c["side"], c["status"]) for c in closing) == [
        ("BTC", "short", "accepted"), ("ETH", "long", "accepted")
    ]  # fmt: skip
    for c in closing:  # paused: an operator's close is not held by it
        sig = rig.flow.wait_done(c["signal_id"])
        assert sig["state"] == "done"
        ((_, intent),) = rig.flow.intents(c["signal_id"]).items()
        assert intent["state"] == "confirmed", intent
    assert rig.eth(address).size_usd_1e6 == 0
    assert rig.flow.position(address, "BTC").size_usd_1e6 == 0

    # Redelivered: the same signal's chain again sends nothing more
    first = closing[0]["signal_id"]
    pk = rig.flow.q.signal(first)["id"]
    rig.flow.s.intake.dispatcher.dispatch(pk)
    rig.flow.run_task("copytrade.watch")
    assert len(rig.flow.intents(first)) == 1
    again = rig.cli("follower", "close-all", str(fid), "--reason", "again", "--json")
    assert json.loads(again.stdout)["closing"] == []  # nothing held: nothing to close


def test_pause_with_close_on_stop_closes_and_remove_needs_a_choice(rig: Rig) -> None:
    leader = rig.flow.leader()
    fid, address = rig.flow.follower(leader, sizing="ratio:1", assets="ETH")
    other, other_address = rig.flow.follower(leader, sizing="ratio:1", assets="ETH")
    assert rig.cli("follower", "set-policy", str(fid), "--close-on-stop").returncode == 0
    opened = rig.open_eth(leader, "60")
    assert {opened[fid]["state"], opened[other]["state"]} == {"confirmed"}

    out = rig.cli("follower", "pause", str(fid), "--json")
    assert out.returncode == 0, out.stderr
    (closing,) = json.loads(out.stdout)["closing"]
    assert rig.flow.wait_done(closing["signal_id"])["state"] == "done"
    assert rig.eth(address).size_usd_1e6 == 0
    assert rig.eth(other_address).size_usd_1e6 > 0  # only that follower's

    refused = rig.cli("follower", "remove", str(other))
    assert refused.returncode == 2
    assert "holds ETH long on the venue: say --close-positions" in refused.stderr
    assert not rig.flow.s.registry.follower(other).removed
    kept = rig.cli("follower", "remove", str(other), "--keep-positions", "--reason", "asked")
    assert kept.returncode == 0, kept.stderr
    assert rig.flow.s.registry.follower(other).removed
    assert rig.eth(other_address).size_usd_1e6 > 0
    after = rig.open_eth(leader, "60")  # a removed follower gets no intent
    assert other not in after
