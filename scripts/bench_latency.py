"""B2 latency: an idle system, one follower, signals one at a time: submit -> broadcast
p50 and p99. Floor, same run: a bare Celery 6-link no-op chain (same broker, a prefork
worker of the same size) p50/p99, plus one sign + eth_sendRawTransaction.

    .venv/bin/python scripts/bench_latency.py [--signals 200]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_fanout import save  # noqa: E402
from bench_support import GWEI, BenchStack, Rpc, signal_payload, wait_for  # noqa: E402

from config.settings import foreign_env  # noqa: E402
from core.adapters.venue import encode_order
from core.domain.types import Action  # noqa: E402
from core.domain.venue import OrderCall


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def sent_latency(s: Any, pk: int) -> float | None:
    from sqlalchemy import text

    with s.db.tx() as conn:
        v = conn.execute(
            text(
                "SELECT extract(epoch FROM i.sent_at - g.created_at) FROM intents i"
                " JOIN signals g ON g.id = i.signal_pk WHERE g.id = :pk AND i.sent_at IS NOT NULL"
            ),
            {"pk": pk},
        ).scalar()
    return None if v is None else float(v)


def floor_chain(b: BenchStack, n: int) -> list[float]:
    from celery import chain

    scripts = str(Path(__file__).resolve().parent)
    env = {
        **foreign_env(b.env),
        "BENCH_BROKER_URL": b.env["COPYTRADE_BROKER_URL"],
        "BENCH_BACKEND_URL": "redis://127.0.0.1:6379/14",
        "PYTHONPATH": scripts,
    }
    import os

    os.environ.update({k: env[k] for k in ("BENCH_BROKER_URL", "BENCH_BACKEND_URL")})
    import bench_noop_app

    b.emb.spawn(
        "noop-worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bench_noop_app",
            "worker",
            "-P",
            "prefork",
            "-c",
            "2",
            "-Q",
            "bench_noop",
            "-l",
            "WARNING",
        ],
        env=env,
    )
    app = bench_noop_app.app
    wait_for(lambda: bool(app.control.ping(timeout=0.5)), 60, "noop worker")
    out = []
    for i in range(n + 5):
        t0 = time.perf_counter()
        chain(*[app.signature("bench.noop", immutable=True) for _ in range(6)]).apply_async().get(
            timeout=10
        )
        if i >= 5:  # warm-up
            out.append(time.perf_counter() - t0)
    return out


def sign_send(b: BenchStack, n: int = 50) -> float:
    from eth_account import Account

    rpc = Rpc(b.env["COPYTRADE_RPC_URL"])
    acct = Account.create()
    rpc.call("anvil_setBalance", acct.address, hex(10**19))
    nonce = int(rpc.call("eth_getTransactionCount", acct.address, "pending"), 16)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        data = encode_order(
            OrderCall(Action.OPEN, "BTC", True, 10**6, 2, 10**12, secrets.token_bytes(32))
        )
        signed = acct.sign_transaction(
            {
                "type": 2,
                "chainId": 31337,
                "nonce": nonce + i,
                "to": b.env["COPYTRADE_VENUE_ADDRESS"],
                "value": 0,
                "data": data,
                "gas": 200_000,
                "maxFeePerGas": 100 * GWEI,
                "maxPriorityFeePerGas": GWEI,
            }
        )
        rpc.call("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex().removeprefix("0x"))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--signals", type=int, default=200)
    args = ap.parse_args()
    b = BenchStack()
    try:
        b.start()
        b.start_processes()
        from eth_utils import to_checksum_address

        leader = to_checksum_address("0x" + secrets.token_hex(20))
        b.s.registry.add_leader(leader, "bench")
        b.followers(1, leader)
        lat: list[float] = []
        for i in range(args.signals + 5):
            p = signal_payload(leader, "open" if i == 0 else "increase", 10**6)
            pk = b.s.intake.submit(p, source="bench").signal_pk
            wait_for(lambda pk=pk: sent_latency(b.s, pk) is not None, 30, "broadcast", 0.001)
            if i >= 5:  # warm-up: caches, connections
                lat.append(float(sent_latency(b.s, pk) or 0))
        chain_lat = floor_chain(b, args.signals)
        one = sign_send(b)
    finally:
        b.stop()
    r = {
        "signals": args.signals,
        "p50_s": pct(lat, 0.5),
        "p99_s": pct(lat, 0.99),
        "floor_chain_p50_s": pct(chain_lat, 0.5),
        "floor_chain_p99_s": pct(chain_lat, 0.99),
        "floor_sign_send_s": one,
    }
    r["floor_p50_s"] = r["floor_chain_p50_s"] + one
    r["floor_p99_s"] = r["floor_chain_p99_s"] + one
    r["ratio_p50"] = r["p50_s"] / r["floor_p50_s"]
    r["ratio_p99"] = r["p99_s"] / r["floor_p99_s"]
    print(
        f"B2 latency, {args.signals} signals one at a time: submit -> broadcast "
        f"p50 {r['p50_s'] * 1000:.1f} ms (floor {r['floor_p50_s'] * 1000:.1f} ms, "
        f"{r['ratio_p50']:.2f}x) p99 {r['p99_s'] * 1000:.1f} ms (floor "
        f"{r['floor_p99_s'] * 1000:.1f} ms, {r['ratio_p99']:.2f}x); floor = 6-link no-op "
        f"chain p50 {r['floor_chain_p50_s'] * 1000:.1f} / "
        f"p99 {r['floor_chain_p99_s'] * 1000:.1f} ms"
        f" + sign+send {one * 1000:.1f} ms"
    )
    save("B2_latency", r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
