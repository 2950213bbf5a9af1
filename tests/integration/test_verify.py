"""`copytrade verify` passes on clean data and catches each planted breach."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update

from core.adapters.postgres.tables import signers
from core.adapters.signers.factory import resolve
from core.bootstrap import Services
from core.domain.signals import parse_signal
from core.domain.types import Mode
from core.services.verify import verify
from tests.support import procs
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import settings_with


@pytest.fixture
def world(stack: Any) -> Iterator[tuple[Services, Flow, dict[str, str]]]:
    with fresh_database("ct_verify") as url:
        env = {**stack.env, "COPYTRADE_DATABASE_URL": url}
        s = Services(settings_with(env))
        s.mode.request(Mode.LIVE, "pytest", "verify")
        yield s, Flow(stack, services=s), env


def trade(s: Services, flow: Flow, leader: str) -> str:
    spec = parse_signal(flow.payload(leader, collateral_usd="10", leverage=1))
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    for step in (s.pipeline.validate, s.pipeline.size, s.pipeline.build, s.pipeline.send):
        step(pk)
    procs.wait_until(
        lambda: (s.watcher.poll(), flow.q.signal(spec.signal_id)["state"])[1] == "done", 20, "done"
    )
    return spec.signal_id


def run_verify(s: Services) -> Any:
    return verify(s.audit_queries, s.chain, s.venue, s.settings.max_signal_age_s)


def test_verify_is_clean_after_real_trades_and_the_cli_agrees(world: Any) -> None:
    s, flow, env = world
    leader = flow.leader()
    for _ in range(3):
        flow.follower(leader)
    trade(s, flow, leader)
    trade(s, flow, leader)
    report = run_verify(s)
    assert report.breaches == []
    assert report.figures["nonces_assigned"] == 6
    assert report.figures["nonces_consumed"] == 6
    out = subprocess.run(
        procs.copytrade_cmd("verify", "--json"), env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ok"] is True


def test_verify_catches_a_duplicate_order_a_skipped_nonce_and_a_stuck_signal(world: Any) -> None:
    s, flow, env = world
    leader = flow.leader()
    fid, address = flow.follower(leader)
    sid = trade(s, flow, leader)
    assert run_verify(s).ok
    # 1. A second order on chain with the same client order id, from our signer.
    (intent,) = flow.q.intents(signal_id=sid)
    detail = flow.q.intent(intent["id"])
    signer = resolve(s.registry.follower(fid).signer_ref)
    tx = {
        "type": 2,
        "chainId": 31337,
        "nonce": s.chain.nonce(address),
        "to": flow.stack.venue,
        "value": 0,
        "data": bytes.fromhex(detail["calldata"][2:]),
        "gas": 200_000,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
    }
    dup = signer.sign_transaction(tx)
    s.chain.send_raw([dup.raw])
    procs.wait_until(lambda: bool(s.chain.receipts([dup.tx_hash])), 10, "duplicate mined")
    # 2. A nonce skipped in our books.
    with s.db.tx() as conn:
        conn.execute(
            update(signers)
            .where(signers.c.address == address)
            .values(next_nonce=signers.c.next_nonce + 2)
        )
    # 3. A signal stuck past its max age.
    old = parse_signal({**flow.payload(leader), "issued_at": int(time.time()) - 10_000})
    s.signals.insert_signal(old, s.registry.leader_id(leader), "test")
    report = run_verify(s)
    text = "\n".join(report.breaches)
    assert f"client order id {intent['idempotency_key']}: 2 orders on chain" in text
    assert "nonce gap" in text
    assert f"signal {old.signal_id} still accepted past its max age" in text
    out = subprocess.run(
        procs.copytrade_cmd("verify"), env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1
    assert "BREACH" in out.stdout


def test_verify_on_the_wrong_chain_exits_2_with_one_line_and_no_verdict(stack: Any) -> None:
    """WrongChain is not a breach (exit 1) nor a pass: the books were not checked."""
    with fresh_database("ct_verify_chain") as url:
        env = {**stack.env, "COPYTRADE_DATABASE_URL": url, "COPYTRADE_CHAIN_ID": "1"}
        out = subprocess.run(
            procs.copytrade_cmd("verify", "--json"),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 2, out.stderr
    assert out.stdout == ""
    # the last line is the CLI's error (identity.py's critical log line may come before it)
    last = out.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"error: node chain id \d+ != COPYTRADE_CHAIN_ID 1", last), out.stderr
    assert "Traceback" not in out.stderr
