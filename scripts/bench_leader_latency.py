"""Benchmark: a leader's trade mined → a dispatched signal, through the leader watcher.

On a throwaway local stack (embedded PostgreSQL and Redis, anvil with 0.5 s blocks, two
prefork workers, beat polling every COPYTRADE_LEADER_POLL_S), a funded leader sends
`--trades` orders to the router; for each, the time from its receipt being visible to
its signal being `dispatched` is measured. The floor, measured in the same run, is the
same path without the chain: a signal submitted through the Python API to `dispatched`.

    .venv/bin/python scripts/bench_leader_latency.py [--trades 20] [--poll 0.25]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.adapters.postgres.reads.queries import Queries  # noqa: E402
from core.adapters.signers.local import LocalSigner  # noqa: E402
from core.adapters.venue import encode_order  # noqa: E402
from core.domain.types import Action  # noqa: E402
from core.domain.venue import OrderCall  # noqa: E402
from core.drills.local import LocalStack  # noqa: E402

GWEI = 10**9
PRICE = 100_000 * 10**6


def wait(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not there yet
            pass
        time.sleep(0.002)
    raise TimeoutError("benchmark step timed out")


def dispatched(q: Queries, sid: str) -> bool:
    return bool(q.signal(sid)["state"] in ("dispatched", "done"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trades", type=int, default=20)
    ap.add_argument("--poll", default="0.25", help="COPYTRADE_LEADER_POLL_S")
    args = ap.parse_args()
    stack = LocalStack(
        Path(tempfile.mkdtemp(prefix="copytrade-bench-")),
        followers=0,
        COPYTRADE_LEADER_POLL_S=args.poll,
    )
    try:
        s = stack.start()
        q = Queries(s.db)
        leader = LocalSigner.from_key(secrets.token_hex(32))
        s.chain.rpc("anvil_setBalance", leader.address, hex(10**20))
        s.registry.add_leader(leader.address, "bench", s.chain.block_number())
        stack.add_followers(2, leader.address)
        watcher, floor = [], []
        for i in range(args.trades):
            action = Action.OPEN if i == 0 else Action.INCREASE
            signed = leader.sign_transaction(
                {
                    "type": 2,
                    "chainId": 31337,
                    "nonce": s.chain.nonce(leader.address, "pending"),
                    "to": s.settings.venue_address,
                    "value": 0,
                    "data": encode_order(
                        OrderCall(action, "BTC", True, 10**6, 1, 2 * PRICE, secrets.token_bytes(32))
                    ),
                    "gas": 300_000,
                    "maxFeePerGas": 50 * GWEI,
                    "maxPriorityFeePerGas": 2 * GWEI,
                }
            )
            s.chain.send_raw([signed.raw])
            wait(lambda h=signed.tx_hash: s.chain.receipts([h]))
            t0 = time.perf_counter()
            sid = f"chain:31337:{signed.tx_hash}:0"
            wait(lambda sid=sid: dispatched(q, sid))
            watcher.append(time.perf_counter() - t0)
            # The floor: the same leader's signal through the API, no chain read.
            api = f"bench-{uuid.uuid4().hex[:10]}"
            t1 = time.perf_counter()
            s.intake.submit(
                {
                    "signal_id": api,
                    "leader": leader.address,
                    "action": "increase",
                    "asset": "BTC",
                    "side": "long",
                    "collateral_usd_1e6": 10**6,
                    "leverage_x": 1,
                    "price_usd_1e6": PRICE,
                },
                source="bench",
            )
            wait(lambda api=api: dispatched(q, api))
            floor.append(time.perf_counter() - t1)
    finally:
        stack.stop()
    med_w, med_f = statistics.median(watcher), statistics.median(floor)
    p95_w = sorted(watcher)[max(0, int(len(watcher) * 0.95) - 1)]
    print(f"leader trades: {len(watcher)}, poll {args.poll} s, blocks 0.5 s")
    print(
        f"receipt -> dispatched (watcher): median {med_w * 1000:.0f} ms, "
        f"p95 {p95_w * 1000:.0f} ms, max {max(watcher) * 1000:.0f} ms"
    )
    print(f"API submit -> dispatched (floor): median {med_f * 1000:.0f} ms")
    print(f"ratio watcher / floor: {med_w / med_f:.1f}x; watcher / block time: {med_w / 0.5:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
