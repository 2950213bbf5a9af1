"""The same signal run DRY and LIVE in two fresh databases: the calldata DRY recorded is
byte for byte the calldata LIVE broadcast (read back from the chain)."""

from __future__ import annotations

import uuid
from typing import Any

from core.bootstrap import Services
from core.domain.signals import parse_signal
from core.domain.types import Mode
from tests.support.chain import new_keystore, random_address
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import settings_with


def run_once(
    stack: Any, db_url: str, mode: Mode, leader: str, ref: str, payload: dict[str, Any]
) -> tuple[Services, dict[str, Any]]:
    s = Services(settings_with({**stack.env, "COPYTRADE_DATABASE_URL": db_url}))
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


def test_dry_calldata_equals_live_broadcast_calldata(stack: Any) -> None:
    leader = random_address()
    ref, address = new_keystore(stack.dir, stack.services().chain)
    payload = {
        "schema": 1,
        "signal_id": f"pair-{uuid.uuid4().hex}",
        "leader": leader,
        "action": "open",
        "asset": "BTC",
        "side": "long",
        "collateral_usd_1e6": 40_000_000,
        "leverage_x": 3,
    }  # no price: the venue's
    with fresh_database() as dry_db, fresh_database() as live_db:
        _, dry = run_once(stack, dry_db, Mode.DRY, leader, ref, payload)
        s, live = run_once(stack, live_db, Mode.LIVE, leader, ref, payload)
        tx = s.chain.rpc("eth_getTransactionByHash", live["tx_hash"])
    assert (dry["state"], dry["nonce"], dry["tx_hash"]) == ("dry_run", None, None)
    assert dry["attempts"] == []
    assert live["state"] == "sent"
    assert tx["from"].lower() == address.lower()
    assert dry["calldata"] == tx["input"]
    assert len(bytes.fromhex(dry["calldata"][2:])) == 4 + 7 * 32
