"""`copytrade drift`, `status` and `audit` against a scenario with known positions: the
leader trades on the venue itself, its signal is copied by real workers, one follower
also trades outside the system."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from config.celery_app import QUEUES
from core.adapters.signers.local import LocalSigner
from core.adapters.venue import encode_order
from core.domain.types import Action
from core.domain.venue import OrderCall
from tests.support import procs
from tests.support.flow import Flow

GWEI = 10**9
E6 = 10**6


def cli(flow: Flow, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        env={**flow.stack.env, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def trade(flow: Flow, who: LocalSigner, asset: str, usd: int, lev: int) -> None:
    """An open sent straight to the venue (not through copytrade)."""
    data = encode_order(
        OrderCall(Action.OPEN, asset, True, usd * E6, lev, 10**18, secrets.token_bytes(32))
    )
    signed = who.sign_transaction(
        {
            "type": 2,
            "chainId": 31337,
            "nonce": flow.s.chain.nonce(who.address, "pending"),
            "to": flow.stack.venue,
            "value": 0,
            "data": data,
            "gas": 300_000,
            "maxFeePerGas": 50 * GWEI,
            "maxPriorityFeePerGas": 2 * GWEI,
        }
    )
    (out,) = flow.s.chain.send_raw([signed.raw])
    assert out.accepted, out
    procs.wait_until(lambda: flow.s.chain.receipts([signed.tx_hash]), 20, "direct trade")


@dataclass
class Scene:
    flow: Flow
    ok1: tuple[int, str]
    half: tuple[int, str]
    lev_capped: tuple[int, str]
    pos_capped: tuple[int, str]
    outside: tuple[int, str]


@pytest.fixture
def scene(flow: Flow) -> Scene:
    key = "0x" + secrets.token_hex(32)
    leader = LocalSigner.from_key(key)
    flow.s.chain.rpc("anvil_setBalance", leader.address, hex(10**18))
    # The leader's own trade (20 USD long BTC) is mined before it is added, so the leader
    # watcher (which follows from the next block) does not copy it a second time.
    trade(flow, leader, "BTC", 10, 2)
    flow.s.registry.add_leader(leader.address, "pytest")
    ok1 = flow.follower(leader.address)
    half = flow.follower(leader.address, sizing="ratio:0.5")
    lev_capped = flow.follower(leader.address, max_leverage=1)  # rejected: missing
    pos_capped = flow.follower(leader.address, max_position_usd_1e6=15 * E6)  # rejected
    outside = flow.follower(leader.address)
    p = flow.payload(leader.address, collateral_usd="10", leverage=2)
    assert flow.submit(p)["status"] == "accepted"
    flow.wait_done(p["signal_id"], timeout=90)
    # The `outside` follower's key also trades ETH by itself (a nonce used outside).
    ref = flow.s.registry.list_followers()
    path = next(f.signer_ref for f in ref if f.id == outside[0]).removeprefix("keystore:")
    keystore = json.loads(Path(path).read_text())
    own = LocalSigner(Account.from_key(Account.decrypt(keystore, "test-password")))
    trade(flow, own, "ETH", 5, 1)
    return Scene(flow, ok1, half, lev_capped, pos_capped, outside)


def drift_of(scene: Scene, follower: tuple[int, str]) -> tuple[int, dict[str, dict[str, Any]]]:
    out = cli(scene.flow, "drift", "--follower", str(follower[0]), "--json")
    assert out.stderr == "" or "reading positions" not in out.stdout
    return out.returncode, {r["asset"]: r for r in json.loads(out.stdout)}


def test_drift_reports_each_follower_against_leader_and_policy(scene: Scene) -> None:
    code, rows = drift_of(scene, scene.ok1)
    assert code == 0
    assert set(rows) == {"BTC"}  # ETH: both flat, not listed
    btc = rows["BTC"]
    assert (btc["leader_usd_1e6"], btc["follower_usd_1e6"]) == (20 * E6, 20 * E6)
    assert (btc["target_usd_1e6"], btc["off_by_usd_1e6"], btc["status"]) == (20 * E6, 0, "ok")

    code, rows = drift_of(scene, scene.half)
    assert code == 0
    assert (rows["BTC"]["follower_usd_1e6"], rows["BTC"]["target_usd_1e6"]) == (10 * E6, 10 * E6)

    code, rows = drift_of(scene, scene.lev_capped)
    assert code == 1
    assert (rows["BTC"]["status"], rows["BTC"]["follower_usd_1e6"]) == ("missing", 0)
    assert rows["BTC"]["target_usd_1e6"] == 20 * E6

    code, rows = drift_of(scene, scene.pos_capped)
    assert code == 1
    assert (rows["BTC"]["status"], rows["BTC"]["target_usd_1e6"]) == ("missing", 15 * E6)
    assert rows["BTC"]["limit_usd_1e6"] == 15 * E6

    code, rows = drift_of(scene, scene.outside)
    assert code == 1
    assert rows["BTC"]["status"] == "ok"
    eth = rows["ETH"]
    assert (eth["status"], eth["leader_usd_1e6"], eth["follower_usd_1e6"]) == ("orphan", 0, 5 * E6)

    table = cli(scene.flow, "drift", "--follower", str(scene.lev_capped[0]), COLUMNS="160")
    assert table.returncode == 1
    line = next(x for x in table.stdout.splitlines() if " BTC " in x)
    assert [c.strip() for c in line.strip("│ ").split("│")][2:6] == [
        "missing",
        "20.00",
        "0.00",
        "20.00",
    ]
    bad = cli(scene.flow, "drift", "--follower", "999999999")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: follower 999999999 does not exist"


def test_status_shows_queues_the_last_hour_and_a_nonce_used_outside(scene: Scene) -> None:
    out = cli(scene.flow, "status", "--json")
    assert out.returncode == 0, out.stderr
    st = json.loads(out.stdout)
    assert set(st["queues"]) == set(QUEUES)
    assert all(isinstance(n, int) for n in st["queues"].values())
    assert st["intents_last_hour"]["confirmed"] >= 3
    assert st["intents_last_hour"]["rejected"] >= 2
    assert st["held"] == st["intents_by_state"].get("held", 0)
    signers = st["signers"]
    assert signers["total"] >= 3
    outside = [line for line in signers["outside"] if scene.outside[1] in line]
    assert outside == [f"{scene.outside[1]}: ours 1, chain latest 2, pending 2"]
    assert not any(scene.ok1[1] in line for line in signers["outside"] + signers["unsent"])
    screen = cli(scene.flow, "status", COLUMNS="160")
    assert screen.returncode == 0
    assert "nonce used outside" in screen.stdout
    assert "intents by state" in screen.stdout


def test_audit_lists_operator_actions_with_who_when_why(scene: Scene) -> None:
    fid = scene.half[0]
    paused = cli(
        scene.flow,
        "follower",
        "pause",
        str(fid),
        "--reason",
        "audit drill",
        COPYTRADE_OPERATOR="alice",
    )
    assert paused.returncode == 0, paused.stderr
    out = cli(scene.flow, "audit", "--since", "10m", "--action", "follower.", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    mine = [
        r
        for r in rows
        if r["action"] == "follower.flags" and r["details"].get("follower_id") == fid
    ]
    assert len(mine) == 1
    assert (mine[0]["actor"], mine[0]["reason"], mine[0]["details"]["paused"]) == (
        "alice",
        "audit drill",
        True,
    )
    assert all(r["action"].startswith("follower.") for r in rows)
    future = cli(scene.flow, "audit", "--since", "2999-01-01", "--json")
    assert json.loads(future.stdout) == []
    bad = cli(scene.flow, "audit", "--since", "yesterday")
    assert bad.returncode == 2
    assert "use a duration (30m, 12h, 7d) or an ISO date" in bad.stderr
