"""Gas balances checked before signing, and rotating a follower's key, on real workers."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from core.domain.errors import InFlight
from tests.support import procs
from tests.support.chain import new_keystore
from tests.support.flow import Flow


def test_an_unfunded_follower_is_rejected_and_the_others_are_mined(flow: Flow) -> None:
    leader = flow.leader()
    rich = flow.follower(leader)
    poor = flow.follower(leader, eth=0)
    p = flow.payload(leader, collateral_usd="10", leverage=2)
    assert flow.submit(p)["status"] == "accepted"
    flow.wait_done(p["signal_id"])
    got = flow.intents(p["signal_id"])
    assert got[rich[0]]["state"] == "confirmed"
    assert got[poor[0]]["state"] == "rejected"
    assert got[poor[0]]["reason"].startswith("insufficient_funds: 0 wei < ")
    assert got[poor[0]]["nonce"] is None  # no nonce taken: nothing to cancel later
    assert flow.position(rich[1]).size_usd_1e6 == 20 * 10**6
    status = subprocess.run(
        [sys.executable, "-m", "core.cli", "status", "--json"],
        env=flow.stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    low = json.loads(status.stdout)["low_balance_signers"]
    assert any(poor[1] in line for line in low)
    assert not any(rich[1] in line for line in low)


def test_a_key_is_rotated_only_with_nothing_in_flight(flow: Flow) -> None:
    leader = flow.leader()
    fid, old = flow.follower(leader)
    new_ref, new = new_keystore(flow.stack.dir, flow.s.chain)
    flow.s.mode.stop("pytest", "hold an order signed by the old key")
    try:
        p = flow.payload(leader, collateral_usd="5", leverage=1)
        flow.submit(p)
        procs.wait_until(
            lambda: flow.intents(p["signal_id"]).get(fid, {}).get("state") in ("created", "signed"),
            20,
            "an order waiting",
        )
        with pytest.raises(InFlight, match="not finished"):
            flow.s.registry.set_signer(fid, new_ref, new, "pytest", "rotate")
    finally:
        flow.s.mode.resume("pytest", "go on")
    flow.wait_done(p["signal_id"])
    assert flow.position(old).size_usd_1e6 == 5 * 10**6
    out = subprocess.run(
        [sys.executable, "-m", "core.cli", "follower", "set-signer", str(fid), new_ref],
        env=flow.stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    q = flow.payload(leader, action="increase", collateral_usd="5", leverage=1)
    flow.submit(q)
    flow.wait_done(q["signal_id"])
    intent = flow.intents(q["signal_id"])[fid]
    assert intent["state"] == "confirmed"
    tx: Any = flow.s.chain.rpc("eth_getTransactionByHash", intent["tx_hash"])
    assert tx["from"].lower() == new.lower()
    assert flow.position(new).size_usd_1e6 == 5 * 10**6  # the new key's own position
