"""One leader signal becomes confirmed follower transactions on the venue contract."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.flow import Flow

USD = 10**6


def test_one_signal_to_twenty_followers_lands_hand_computed_positions(flow: Flow) -> None:
    leader = flow.leader()
    # Leader: open BTC long, $100 collateral x 5 = $500 notional, at $100,000.
    cases = {  # name: (follower kwargs, expected state, expected reason, position size)
        "ratio1-a": ({}, "confirmed", None, 500 * USD),
        "fixed-size": ({"sizing": "fixed-size:0.003"}, "confirmed", None, 300 * USD),
        "ratio-half": ({"sizing": "ratio:0.5"}, "confirmed", None, 250 * USD),
        "ratio-third": ({"sizing": "ratio:0.3333"}, "confirmed", None, 166_650_000),
        "fixed-1000": ({"sizing": "fixed-notional:1000"}, "confirmed", None, 1000 * USD),
        "fixed-333.33": ({"sizing": "fixed-notional:333.33"}, "confirmed", None, 333_300_000),
        "equity": ({"sizing": "equity:5000/10000"}, "confirmed", None, 250 * USD),
        "lev-at-cap": ({"max_leverage": 5}, "confirmed", None, 500 * USD),
        "lev-over-cap": ({"max_leverage": 4}, "rejected", "max_leverage", 0),
        "limit-exact": ({"max_position_usd_1e6": 500 * USD}, "confirmed", None, 500 * USD),
        "limit-minus-1": ({"max_position_usd_1e6": 500 * USD - 1}, "rejected", "max_position", 0),
        "eth-only": ({"assets": "ETH"}, "rejected", "asset_not_allowed", 0),
        "paused": ({"paused": True}, "rejected", "paused", 0),
        "breaker": ({"circuit_breaker": True}, "rejected", "circuit_breaker", 0),
        "dust": ({"sizing": "ratio:0.00001"}, "rejected", "size_zero", 0),
        "fixed-under-step": ({"sizing": "fixed-notional:0.04"}, "rejected", "size_zero", 0),
        "under-min": (
            {"sizing": "fixed-notional:0.5"},
            "rejected",
            "below_venue_minimum: notional 0.5 < 1 USD",
            0,
        ),
        "slippage-0": ({"slippage_bps": 0}, "confirmed", None, 500 * USD),
        "ratio2": ({"sizing": "ratio:2"}, "confirmed", None, 1000 * USD),
        "fixed-1k-lev-limit": (
            {"sizing": "fixed-notional:1000", "max_position_usd_1e6": 999 * USD},
            "rejected",
            "max_position",
            0,
        ),
    }
    assert len(cases) == 20
    followers = {name: flow.follower(leader, **kw) for name, (kw, *_rest) in cases.items()}
    payload = flow.payload(leader, collateral_usd="100", leverage=5, price_usd="100000")
    answer = flow.submit(payload)
    assert answer["status"] == "accepted"
    assert flow.wait_done(payload["signal_id"])["state"] == "done"
    intents = flow.intents(payload["signal_id"])
    for name, (_kw, state, reason, size) in cases.items():
        fid, address = followers[name]
        got = intents[fid]
        assert (got["state"], got["reason"]) == (state, reason), name
        assert flow.position(address).size_usd_1e6 == size, name
        if state == "confirmed":
            assert got["nonce"] == 0, name
            assert got["tx_hash"], name
            assert flow.position(address).is_long, name
        else:
            assert (got["nonce"], got["tx_hash"]) == (None, None), name


def test_an_order_the_venue_refuses_ends_reverted_with_the_decoded_reason(flow: Flow) -> None:
    leader = flow.leader()
    fid, address = flow.follower(leader, slippage_bps=50)
    # The leader's price is 10 % under the venue's: the follower's limit price cannot fill.
    p = flow.payload(leader, collateral_usd="10", leverage=1, price_usd="90000")
    flow.submit(p)
    flow.wait_done(p["signal_id"])
    got = flow.intents(p["signal_id"])[fid]
    assert (got["state"], got["reason"]) == ("reverted", "reverted: slippage")
    receipt = flow.s.chain.rpc("eth_getTransactionReceipt", got["tx_hash"])
    assert int(receipt["status"], 16) == 0
    assert flow.position(address).size_usd_1e6 == 0
    shown = subprocess.run(
        [sys.executable, "-m", "core.cli", "intent", "show", str(got["id"]), "--json"],
        env=flow.stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    detail = json.loads(shown.stdout)
    assert (detail["state"], detail["attempts"][0]["tx_hash"]) == ("reverted", got["tx_hash"])
    listed = subprocess.run(
        [sys.executable, "-m", "core.cli", "intents", "list", "--signal", p["signal_id"], "--json"],
        env=flow.stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert [r["id"] for r in json.loads(listed.stdout)] == [got["id"]]
