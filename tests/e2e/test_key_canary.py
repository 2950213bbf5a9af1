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

import redis
from eth_account import Account
from sqlalchemy.engine import make_url

from tests.support.chain import PASSWORD
from tests.support.flow import Flow

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


def test_a_fresh_key_signs_a_mined_order_and_appears_nowhere(flow: Flow, tmp_path: Path) -> None:
    key = secrets.token_hex(32)
    acct = Account.from_key(key)
    keystore = tmp_path / "canary.json"
    keystore.write_text(json.dumps(Account.encrypt(key, PASSWORD, kdf="pbkdf2", iterations=2)))
    flow.s.chain.rpc("anvil_setBalance", acct.address, hex(10**19))
    leader = flow.leader()
    lid = flow.s.registry.leader_id(leader)
    from core.domain.risk import Policy
    from core.domain.sizing import parse_sizing

    fid = flow.s.registry.add_follower(
        tg_user_id=7,
        leader_id=lid,
        signer_ref=f"keystore:{keystore}",
        address=acct.address,
        policy=Policy(5, 10**12, frozenset({"BTC"}), parse_sizing("ratio:1")),
        in_cohort=True,
        actor="pytest",
    )
    broker = flow.stack.env["COPYTRADE_BROKER_URL"]
    messages: list[str] = []
    stop = threading.Event()
    spy = threading.Thread(target=capture_broker, args=(broker, messages, stop), daemon=True)
    spy.start()
    p = flow.payload(leader, collateral_usd="3", leverage=2)
    flow.submit(p)
    flow.wait_done(p["signal_id"])
    stop.set()
    flow.s.chain.block_number()  # one more command so the monitor loop sees `stop`
    redis.Redis.from_url(broker).ping()
    spy.join(5)
    got = flow.intents(p["signal_id"])[fid]
    tx = flow.s.chain.rpc("eth_getTransactionByHash", got["tx_hash"])
    assert got["state"] == "confirmed"
    assert tx["from"].lower() == acct.address.lower()  # this key signed a mined transaction

    bodies = [base64.b64decode(b).decode() for m in messages for b in BODY.findall(m)]
    logs = "\n".join(f.read_text(errors="replace") for f in flow.stack.dir.rglob("*.log"))
    url = make_url(flow.stack.db_url)
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
    pk = flow.q.signal(p["signal_id"])["id"]
    assert any(b.startswith(f"[[{pk}]") for b in bodies)  # messages carry the signal's id
    assert got["tx_hash"] in dump  # ... and the dump holds our rows
    for name, text in stores.items():
        assert text, name
        for needle in (key, key.upper(), "0x" + key):
            assert needle not in text, f"key material in {name}"
