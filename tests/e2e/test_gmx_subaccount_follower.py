"""A follower trading through a GMX subaccount, on real workers and the local venue: the
key copytrade holds is the subaccount's; the orders, positions and collateral are the
wallet's; each create and cancel uses one of the wallet's granted actions. A subaccount
the venue would refuse (out of actions, expired, revoked) is rejected before a nonce with
the reason and its figure, logged for the operator; the signal's other followers go on."""

from __future__ import annotations

from typing import Any

import pytest

from core.domain import subaccounts
from tests.support.flow import Flow
from tests.support.pauses import paused
from tests.support.stacks import WorkerSet
from tests.support.subaccounts import (
    grant,
    head_time,
    revoke,
    sub_follower,
    terms,
    usdc,
    wallet,
)

COLLATERAL = 100 * 10**6


@pytest.fixture
def flow(stack: Any, gmx_set: WorkerSet) -> Flow:
    return Flow(stack, gmx_set.workers, services=gmx_set.services, env=gmx_set.env)


def trade(flow: Flow, leader: str, action: str = "open") -> dict[int, dict[str, Any]]:
    body = flow.payload(
        leader, action=action, asset="ETH", collateral_usd="100", leverage=3, price_usd="3000"
    )
    flow.submit(body)
    flow.wait_done(body["signal_id"], timeout=90)
    return flow.intents(body["signal_id"])


def test_orders_are_the_wallet_s_and_each_create_uses_one_granted_action(flow: Flow) -> None:
    leader = flow.leader()
    w = wallet(flow)
    fid, sub = sub_follower(flow, leader, w)
    grant(flow, w, sub, 5, head_time(flow) + 3600)
    before = usdc(flow, w.address)

    opened = trade(flow, leader)[fid]
    assert opened["state"] == "confirmed", opened
    assert opened["signer_address"] == sub  # the subaccount's nonce and gas
    held = flow.position(w.address, "ETH")
    assert held.is_long
    assert held.size_usd_1e6 == 300 * 10**6
    assert flow.position(sub, "ETH").size_usd_1e6 == 0
    assert usdc(flow, w.address) == before - COLLATERAL  # collateral from the wallet
    assert usdc(flow, sub) == 0
    assert terms(flow, w.address, sub).actions_used == 1

    closed = trade(flow, leader, "close")[fid]
    assert closed["state"] == "confirmed", closed
    assert flow.position(w.address, "ETH").size_usd_1e6 == 0
    assert terms(flow, w.address, sub).actions_used == 2
    # The collateral came back to the wallet, less the venue's fees.
    assert before - COLLATERAL < usdc(flow, w.address) <= before


def refused_before_a_nonce(flow: Flow, intent: dict[str, Any], reason: str) -> None:
    assert intent["state"] == "rejected", intent
    assert str(intent["reason"]).startswith(reason + ": "), intent
    assert intent["nonce"] is None, intent
    assert intent["tx_hash"] is None, intent
    logs = "".join(wk.text() for wk in flow.workers)
    assert f"intent {intent['id']} rejected" in logs
    assert reason in logs


def test_a_subaccount_out_of_actions_is_refused_before_a_nonce_and_the_others_go_on(
    flow: Flow,
) -> None:
    leader = flow.leader()
    w = wallet(flow)
    fid, sub = sub_follower(flow, leader, w)
    grant(flow, w, sub, 1, head_time(flow) + 3600)
    assert trade(flow, leader)[fid]["state"] == "confirmed"
    own, _ = flow.follower(leader)  # a follower holding its own wallet's key

    got = trade(flow, leader)
    refused_before_a_nonce(flow, got[fid], subaccounts.EXHAUSTED)
    assert "1 of 1 actions used" in got[fid]["reason"]
    assert got[own]["state"] == "confirmed", got[own]
    assert terms(flow, w.address, sub).actions_used == 1  # nothing reached the venue


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_an_expired_or_revoked_subaccount_is_refused_before_a_nonce(flow: Flow, how: str) -> None:
    leader = flow.leader()
    w = wallet(flow)
    fid, sub = sub_follower(flow, leader, w)
    if how == "expired":
        grant(flow, w, sub, 5, head_time(flow) - 10)
        reason = subaccounts.EXPIRED
    else:
        grant(flow, w, sub, 5, head_time(flow) + 3600)
        revoke(flow, w, sub)
        reason = subaccounts.NOT_AUTHORIZED
    refused_before_a_nonce(flow, trade(flow, leader)[fid], reason)
    assert flow.position(w.address, "ETH").size_usd_1e6 == 0


def test_a_subaccount_revoked_after_the_check_reverts_with_the_same_reason(flow: Flow) -> None:
    """The wallet revokes between copytrade's check and the mining: the venue refuses it,
    and its own error reads as the same reason."""
    leader = flow.leader()
    w = wallet(flow)
    fid, sub = sub_follower(flow, leader, w)
    grant(flow, w, sub, 5, head_time(flow) + 3600)
    body = flow.payload(leader, asset="ETH", collateral_usd="100", leverage=3, price_usd="3000")
    with paused(flow.stack.dir / "pause", "build.after_check") as point:
        flow.submit(body)
        point.wait_reached(60)
        revoke(flow, w, sub)
    flow.wait_done(body["signal_id"], timeout=90)
    intent = flow.intents(body["signal_id"])[fid]
    assert intent["state"] == "reverted", intent
    assert "subaccount_not_authorized: SubaccountNotAuthorized(" in intent["reason"], intent
