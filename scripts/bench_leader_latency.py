"""Benchmark: a leader's trade on the chain → the followers' copies, through the leader
watcher.

On a throwaway local stack (embedded PostgreSQL and Redis, anvil mined every
`--block-time` seconds (1 s), two prefork workers, beat polling every
COPYTRADE_LEADER_POLL_S), a funded leader trades
`--trades` times. The floor, measured in the same run, is the same path without the
chain: a signal submitted through the Python API.

- `--venue simple`: the leader's order to the router; its receipt visible → its signal
  `dispatched` (floor: API submit → dispatched).
- `--venue gmx`: the leader's request, executed by the stack's dev keeper; the leader's
  execution visible (its position moved) → both followers' requests broadcast (floor: API
  submit → both broadcast). Each step waits for the followers' fills before the next (a
  follower's next request waits for its last one's fill).

    .venv/bin/python scripts/bench_leader_latency.py [--trades 20] [--poll 0.25]
        [--venue simple|gmx] [--block-time 1]
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

sys.path.insert(0, str(ROOT / "scripts"))
from bench_fanout import save  # noqa: E402

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
    ap.add_argument("--venue", choices=("simple", "gmx"), default="simple")
    ap.add_argument("--block-time", type=float, default=1.0, help="seconds between blocks")
    args = ap.parse_args()
    if args.venue == "gmx":
        return gmx_main(args.trades, args.poll, args.block_time)
    stack = LocalStack(
        Path(tempfile.mkdtemp(prefix="copytrade-bench-")),
        followers=0,
        block_s=args.block_time,
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
    print(f"leader trades: {len(watcher)}, poll {args.poll} s, blocks {args.block_time} s")
    print(
        f"receipt -> dispatched (watcher): median {med_w * 1000:.0f} ms, "
        f"p95 {p95_w * 1000:.0f} ms, max {max(watcher) * 1000:.0f} ms"
    )
    print(f"API submit -> dispatched (floor): median {med_f * 1000:.0f} ms")
    print(
        f"ratio watcher / floor: {med_w / med_f:.1f}x; watcher / block time: "
        f"{med_w / args.block_time:.2f}"
    )
    return 0


def sent_copies(s: Any, leader_id: int, after_pk: int, n: int) -> int | None:
    """The pk of the leader's first signal after `after_pk` once `n` of its intents were
    broadcast (sent_at set), else None."""
    from sqlalchemy import func, select

    from core.adapters.postgres.tables import intents, signals

    with s.db.tx() as conn:
        pk = conn.execute(
            select(func.min(signals.c.id)).where(
                signals.c.leader_id == leader_id, signals.c.id > after_pk
            )
        ).scalar_one()
        if pk is None:
            return None
        sent = conn.execute(
            select(func.count()).where(intents.c.signal_pk == pk, intents.c.sent_at.is_not(None))
        ).scalar_one()
    return int(pk) if int(sent) >= n else None


def copies_sent(s: Any, leader_id: int, after_pk: int, n: int, timeout: float = 30) -> int:
    """Wait for the leader's next signal after `after_pk` to have `n` requests broadcast."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pk = sent_copies(s, leader_id, after_pk, n)
        if pk is not None:
            return pk
        time.sleep(0.002)
    raise TimeoutError("the followers' requests were not broadcast")


def gmx_main(trades: int, poll: str, block_s: float) -> int:
    from core.adapters.gmx import local

    stack = LocalStack(
        Path(tempfile.mkdtemp(prefix="copytrade-bench-")),
        followers=0,
        venue="gmx",
        block_s=block_s,
        COPYTRADE_LEADER_POLL_S=poll,
    )
    watcher, floor = [], []
    try:
        s = stack.start()
        gmx = stack.gmx
        leader = LocalSigner.from_key(secrets.token_hex(32))
        s.chain.rpc("anvil_setBalance", leader.address, hex(10**20))
        local.fund_usdc(s.chain, stack._keeper, 31337, gmx, leader.address, 10**12)
        local.approve_usdc(s.chain, leader, 31337, gmx, 10**12)
        s.registry.add_leader(leader.address, "bench", s.chain.block_number())
        lid = s.registry.leader_id(leader.address)
        stack.add_followers(2, leader.address)
        n = len(stack.followers)
        fee = s.pipeline.terms.get().execution_fee(True, s.settings.fee_ceiling_wei)
        eth = 3_000 * 10**6

        def size() -> int:
            c = s.venue.position_call(leader.address, "ETH")
            return int(s.venue.decode_position("ETH", s.chain.call(c.to, c.data)).size_raw)

        last_pk = 0
        for i in range(trades):
            action = Action.OPEN if i == 0 else Action.INCREASE
            order = OrderCall(
                action, "ETH", True, 20 * 10**6, 2, eth * 2, secrets.token_bytes(32),
                account=leader.address, execution_fee_wei=fee,
            )  # fmt: skip
            before = size()
            signed = leader.sign_transaction(
                {
                    "type": 2,
                    "chainId": 31337,
                    "nonce": s.chain.nonce(leader.address, "pending"),
                    "to": s.venue_address,
                    "value": fee,
                    "data": s.venue.encode_order(order),
                    "gas": 3_000_000,
                    "maxFeePerGas": 50 * GWEI,
                    "maxPriorityFeePerGas": 2 * GWEI,
                }
            )
            s.chain.send_raw([signed.raw])
            wait(lambda b=before: size() != b)  # the keeper executed the leader's request
            t0 = time.perf_counter()
            last_pk = copies_sent(s, lid, last_pk, n)
            watcher.append(time.perf_counter() - t0)
            wait(lambda p=last_pk: _filled_pk(s, p, n), 60)
            # The floor: the same leader's signal through the API, to both broadcast.
            api = f"bench-{uuid.uuid4().hex[:10]}"
            t1 = time.perf_counter()
            s.intake.submit(
                {
                    "signal_id": api,
                    "leader": leader.address,
                    "action": "increase",
                    "asset": "ETH",
                    "side": "long",
                    "collateral_usd_1e6": 20 * 10**6,
                    "leverage_x": 2,
                    "price_usd_1e6": eth,
                },
                source="bench",
            )
            last_pk = copies_sent(s, lid, last_pk, n)
            floor.append(time.perf_counter() - t1)
            wait(lambda p=last_pk: _filled_pk(s, p, n), 60)
    finally:
        stack.stop()
    med_w, med_f = statistics.median(watcher), statistics.median(floor)
    p95_w = sorted(watcher)[max(0, int(len(watcher) * 0.95) - 1)]
    print(
        f"GMX leader executions: {len(watcher)}, {n} followers, poll {poll} s, blocks {block_s} s"
    )
    print(
        f"leader execution -> followers' requests broadcast (watcher): median "
        f"{med_w * 1000:.0f} ms, p95 {p95_w * 1000:.0f} ms, max {max(watcher) * 1000:.0f} ms"
    )
    print(f"API submit -> followers' requests broadcast (floor): median {med_f * 1000:.0f} ms")
    print(
        f"ratio watcher / floor: {med_w / med_f:.1f}x; watcher / block time: "
        f"{med_w / block_s:.2f} (target: within one block, 1.0)"
    )
    save(
        "leader_latency_gmx",
        {
            "executions": len(watcher),
            "followers": n,
            "poll_s": float(poll),
            "block_s": block_s,
            "median_s": med_w,
            "p95_s": p95_w,
            "max_s": max(watcher),
            "floor_median_s": med_f,
            "ratio_to_floor": med_w / med_f,
            "blocks": med_w / block_s,
        },
    )
    return 0


def _filled_pk(s: Any, pk: int, n: int) -> bool:
    from sqlalchemy import func, select

    from core.adapters.postgres.tables import intents

    with s.db.tx() as conn:
        done = conn.execute(
            select(func.count()).where(
                intents.c.signal_pk == pk, intents.c.state.in_(["executed", "confirmed"])
            )
        ).scalar_one()
    return int(done) >= n


if __name__ == "__main__":
    raise SystemExit(main())
