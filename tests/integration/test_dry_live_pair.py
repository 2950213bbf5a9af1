"""The same signal run DRY and LIVE in two fresh databases: the calldata DRY recorded is
byte for byte the calldata LIVE broadcast (read back from the chain) — on the simple
router, and on the local GMX venue, where DRY simulates the whole multicall with its value
and a gas price (the venue checks the execution fee against tx.gasprice)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.adapters.chain import Chain
from core.bootstrap import Services
from core.domain.signals import parse_signal
from core.domain.types import Mode
from tests.support import gmx
from tests.support.chain import new_keystore, random_address
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import settings_with


def run_once(
    env: dict[str, str], stack: Any, mode: Mode, leader: str, ref: str, payload: dict[str, Any]
) -> tuple[Services, dict[str, Any]]:
    s = Services(settings_with(env))
    lid, _ = s.registry.add_leader(leader, "pytest")
    flow = Flow(stack, services=s)
    from core.adapters.signers.factory import resolve
    from core.domain.risk import Policy
    from core.domain.sizing import parse_sizing

    policy = Policy(5, 10**12, frozenset({"BTC"}), parse_sizing("ratio:0.5"), 30)
    s.registry.add_follower(
        tg_user_id=1,
        leader_id=lid,
        signer_ref=ref,
        address=resolve(ref).address,
        policy=policy,
        in_cohort=True,
        actor="pytest",
    )
    if s.settings.venue == "gmx" and mode is Mode.DRY:
        gmx.fund_follower(s, ref)  # its USDC and the router's allowance, once
    s.mode.request(mode, "pytest", "pair run")
    spec = parse_signal(payload)
    _, pk = s.signals.insert_signal(spec, lid, "test")
    s.pipeline.validate(pk)
    s.pipeline.size(pk)
    s.pipeline.check_mode(pk)
    if mode is Mode.LIVE:
        s.pipeline.build(pk)
        s.pipeline.send(pk)
    (intent,) = flow.q.intents(signal_id=spec.signal_id)
    return s, flow.q.intent(intent["id"])


@pytest.mark.parametrize("venue", ["simple", "gmx"])
def test_dry_calldata_equals_live_broadcast_calldata(stack: Any, venue: str) -> None:
    leader = random_address()
    ref, address = new_keystore(stack.dir, stack.services().chain)
    on_venue: dict[str, str] = {}
    if venue == "gmx":
        _, on_venue = gmx.deploy(Chain(stack.rpc_url))
    payload = {
        "schema": 1,
        "signal_id": f"pair-{uuid.uuid4().hex}",
        "leader": leader,
        "action": "open",
        "asset": "BTC",
        "side": "long",
        "collateral_usd_1e6": 40_000_000,
        "leverage_x": 3,
    }  # no price: the venue's (GMX: the price fixture's)
    with fresh_database() as dry_db, fresh_database() as live_db:
        env = {**stack.env, **on_venue}
        _, dry = run_once(
            {**env, "COPYTRADE_DATABASE_URL": dry_db}, stack, Mode.DRY, leader, ref, payload
        )
        s, live = run_once(
            {**env, "COPYTRADE_DATABASE_URL": live_db}, stack, Mode.LIVE, leader, ref, payload
        )
        tx = s.chain.rpc("eth_getTransactionByHash", live["tx_hash"])
    assert (dry["state"], dry["nonce"], dry["tx_hash"]) == ("dry_run", None, None)
    assert dry["reason"] is None  # the simulation passed (GMX: fee, value, collateral)
    assert dry["attempts"] == []
    assert live["state"] == "sent"
    assert tx["from"].lower() == address.lower()
    assert dry["calldata"] == tx["input"]
    if venue == "simple":
        assert len(bytes.fromhex(dry["calldata"][2:])) == 4 + 7 * 32
    else:  # the multicall carries the fee sized for the ceiling (decision 0022)
        assert int(tx["value"], 16) == gmx.request_fee(s) > 0
