"""No key material anywhere: a fresh key signs a mined LIVE order, then the logs, a pg_dump,
every Redis key and value and every Celery message captured on the broker are scanned."""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import threading
from pathlib import Path
from typing import Any

import redis
from eth_account import Account
from sqlalchemy.engine import make_url

from tests.support.chain import PASSWORD
from tests.support.flow import Flow
from tests.support.stacks import WorkerSet
from tests.support.subaccounts import grant, wallet

BODY = re.compile(r'"body": "([A-Za-z0-9+/=]+)"')


def capture_broker(url: str, seen: list[str], stop: threading.Event) -> None:
    client = redis.Redis.from_url(url)
    with client.monitor() as m:
        for cmd in m.listen():
            seen.append(str(cmd.get("command", "")))
            if stop.is_set():
                return


def redis_dump(url: str) -> str:
    """Every key and its serialized value (DUMP), in every database of the broker's server."""
    out = []
    for db in range(16):
        c = redis.Redis.from_url(url.rsplit("/", 1)[0] + f"/{db}")
        out += [f"{k!r} {c.dump(k)!r}" for k in c.scan_iter()]
    return "\n".join(out)


def canary_keystore(tmp_path: Path, flow: Flow) -> tuple[str, str, str]:
    """A fresh key in a keystore with gas money: (the key's hex, its ref, its address)."""
    key = secrets.token_hex(32)
    acct = Account.from_key(key)
    keystore = tmp_path / "canary.json"
    keystore.write_text(json.dumps(Account.encrypt(key, PASSWORD, kdf="pbkdf2", iterations=2)))
    flow.s.chain.rpc("anvil_setBalance", acct.address, hex(10**19))
    return key, f"keystore:{keystore}", acct.address


def add_follower(flow: Flow, leader: str, ref: str, address: str, **extra: Any) -> int:
    from core.domain.risk import Policy
    from core.domain.sizing import parse_sizing

    return flow.s.registry.add_follower(
        tg_user_id=7,
        leader_id=flow.s.registry.leader_id(leader),
        signer_ref=ref,
        address=address,
        policy=Policy(5, 10**12, frozenset({"BTC", "ETH"}), parse_sizing("ratio:1")),
        in_cohort=True,
        actor="pytest",
        **extra,
    )


def traded_and_scanned(
    flow: Flow, key: str, fid: int, payload: dict[str, Any], broker: str, db_url: str
) -> dict[str, Any]:
    """Submit `payload` with the broker watched; once done, every store is scanned for the
    key (logs, pg_dump, every Redis key and value, every Celery message); the intent."""
    messages: list[str] = []
    stop = threading.Event()
    spy = threading.Thread(target=capture_broker, args=(broker, messages, stop), daemon=True)
    spy.start()
    flow.submit(payload)
    flow.wait_done(payload["signal_id"], timeout=90)
    stop.set()
    flow.s.chain.block_number()  # one more command so the monitor loop sees `stop`
    redis.Redis.from_url(broker).ping()
    spy.join(5)
    got = flow.intents(payload["signal_id"])[fid]
    bodies = [base64.b64decode(b).decode() for m in messages for b in BODY.findall(m)]
    logs = "\n".join(f.read_text(errors="replace") for f in flow.stack.dir.rglob("*.log"))
    url = make_url(db_url)
    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            url.host or "127.0.0.1",
            "-U",
            url.username or "postgres",
            url.database or "",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    stores = {
        "logs": logs,
        "pg_dump": dump,
        "redis": redis_dump(broker),
        "celery_messages": "\n".join(messages + bodies),
    }
    assert len(bodies) >= 5  # the chain's steps for this signal were captured ...
    pk = flow.q.signal(payload["signal_id"])["id"]
    assert any(b.startswith(f"[[{pk}]") for b in bodies)  # messages carry the signal's id
    assert got["tx_hash"] in dump  # ... and the dump holds our rows
    for name, text in stores.items():
        assert text, name
        for needle in (key, key.upper(), "0x" + key):
            assert needle not in text, f"key material in {name}"
    return got


def test_a_fresh_key_signs_a_mined_order_and_appears_nowhere(flow: Flow, tmp_path: Path) -> None:
    key, ref, address = canary_keystore(tmp_path, flow)
    leader = flow.leader()
    fid = add_follower(flow, leader, ref, address)
    p = flow.payload(leader, collateral_usd="3", leverage=2)
    broker = flow.stack.env["COPYTRADE_BROKER_URL"]
    got = traded_and_scanned(flow, key, fid, p, broker, flow.stack.db_url)
    tx = flow.s.chain.rpc("eth_getTransactionByHash", got["tx_hash"])
    assert got["state"] == "confirmed"
    assert tx["from"].lower() == address.lower()  # this key signed a mined transaction


def test_a_gmx_subaccount_key_signs_a_filled_order_and_appears_nowhere(
    stack: Any, gmx_set: WorkerSet, tmp_path: Path
) -> None:
    """The same scan for a subaccount key trading for a wallet through GMX's
    SubaccountRouter (tests/e2e/test_gmx_subaccount_follower.py drives the rest)."""
    flow = Flow(stack, gmx_set.workers, services=gmx_set.services, env=gmx_set.env)
    key, ref, sub = canary_keystore(tmp_path, flow)
    leader = flow.leader()
    w = wallet(flow)
    grant(flow, w, sub, 5, flow.s.chain.head_time() + 3600)
    fid = add_follower(flow, leader, ref, sub, subaccount_of=w.address)
    p = flow.payload(leader, asset="ETH", collateral_usd="100", leverage=2, price_usd="3000")
    env = gmx_set.env
    got = traded_and_scanned(
        flow, key, fid, p, env["COPYTRADE_BROKER_URL"], env["COPYTRADE_DATABASE_URL"]
    )
    tx = flow.s.chain.rpc("eth_getTransactionByHash", got["tx_hash"])
    assert got["state"] == "confirmed", got
    assert tx["from"].lower() == sub.lower()  # the subaccount key signed it ...
    assert tx["to"].lower() == flow.s.gmx.subaccount_router.lower()  # ... for the wallet
    assert flow.position(w.address, "ETH").size_usd_1e6 > 0
