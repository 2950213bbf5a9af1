"""B3 sustained load and B4 memory: signals offered at a fixed rate for `--seconds` (by
default 0.5x the B1 floor rate measured in the same `make bench` run, as signals x
followers); the backlog (queued messages, intents not yet sent) and each worker process's
RSS are sampled. Worker recycling off (Celery's default: no max-tasks-per-child).

    .venv/bin/python scripts/bench_sustained.py [--seconds 60] [--followers 100] [--rate R]
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_fanout import RESULTS, save  # noqa: E402
from bench_support import BenchStack, children, rss_mb, signal_payload, wait_for  # noqa: E402


def slope(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs) or 1.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den


def backlog(s: Any) -> tuple[int, int]:
    """(intents not yet sent, intents sent or further)."""
    from sqlalchemy import text

    with s.db.tx() as conn:
        row = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE state IN ('pending', 'created', 'signed')),"
                " count(*) FILTER (WHERE sent_at IS NOT NULL) FROM intents"
            )
        ).one()
    return int(row[0]), int(row[1])


def floor_rate() -> float | None:
    if not RESULTS.exists():
        return None
    b1 = json.loads(RESULTS.read_text()).get("B1_fanout_redis")
    if not b1:
        return None
    return float(b1["followers"] / b1["accepted"]["floor_s"])


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--followers", type=int, default=100)
    ap.add_argument("--rate", type=float, help="intents/s offered (default: 0.5x B1 floor)")
    ap.add_argument("--drain", type=float, default=120, help="seconds to wait for the rest")
    args = ap.parse_args()
    measured_floor = floor_rate()
    rate = args.rate or (0.5 * measured_floor if measured_floor else 300.0)
    per_s = rate / args.followers  # signals per second
    b = BenchStack()
    import redis

    broker = redis.Redis(db=12)
    samples: list[dict[str, Any]] = []
    try:
        b.start()
        b.start_processes()
        from eth_utils import to_checksum_address

        leader = to_checksum_address("0x" + secrets.token_hex(20))
        b.s.registry.add_leader(leader, "bench")
        b.followers(args.followers, leader, eth=1000)
        workers = [c for w in b.worker_pids() for c in children(w)]

        def sample(t: float) -> None:
            unsent, sent = backlog(b.s)
            samples.append(
                x := {
                    "t_s": round(t, 2),
                    "queued": {q: int(broker.llen(q)) for q in ("execution", "watch", "intake")},
                    "unsent_intents": unsent,
                    "sent_intents": sent,
                    "rss_mb": [round(rss_mb(p), 1) for p in workers],
                }
            )
            print(f"  t={x['t_s']:.0f}s {x['queued']} unsent {unsent} sent {sent}", flush=True)

        t0 = time.perf_counter()
        submitted = 0
        next_sample = 0.0
        while (now := time.perf_counter() - t0) < args.seconds:
            due = int(now * per_s) + 1
            while submitted < due:
                p = signal_payload(leader, "open" if submitted == 0 else "increase", 10**6)
                assert b.s.intake.submit(p, source="bench").status == "accepted"
                submitted += 1
            if now >= next_sample:
                sample(now)
                next_sample += 5.0
            time.sleep(0.001)
        sample(time.perf_counter() - t0)
        total = submitted * args.followers
        drained: float | None
        try:
            drained = wait_for(lambda: backlog(b.s)[1] >= total, args.drain, "drain", 0.1)
        except TimeoutError:
            drained = None
            from collections import Counter

            kinds = Counter(
                (json.loads(m)["headers"]["task"], json.loads(m)["headers"].get("eta") is not None)
                for m in broker.lrange("execution", 0, -1)
            )
            print(f"  still queued (task, has eta): {dict(kinds)}")
        sample(time.perf_counter() - t0)
    finally:
        b.stop()
    half = [x for x in samples if x["t_s"] <= args.seconds][len(samples) // 2 :]
    growth = slope([x["t_s"] for x in half], [x["unsent_intents"] for x in half])
    per_worker = []
    for i in range(len(samples[0]["rss_mb"])):
        xs = [x["sent_intents"] / 10_000 for x in samples[1:]]
        ys = [x["rss_mb"][i] for x in samples[1:]]
        mb = slope(xs, ys)
        per_worker.append(
            {"mb_per_10k": mb, "pct_per_10k": 100 * mb / (ys[0] or 1), "rss_end": ys[-1]}
        )
    r = {
        "seconds": args.seconds,
        "followers": args.followers,
        "offered_intents_per_s": rate,
        "b1_floor_intents_per_s": measured_floor,
        "signals": submitted,
        "intents": total,
        "drain_after_load_s": drained,
        "backlog_growth_intents_per_s": growth,
        "samples": samples,
        "memory": per_worker,
    }
    print(
        f"B3 sustained: {rate:.0f} intents/s offered for {args.seconds:.0f} s "
        f"({submitted} signals x {args.followers} followers = {total} intents)"
    )
    print("   t(s)  queued(exec/watch/intake)  unsent  sent   RSS per worker (MB)")
    for x in samples:
        q = x["queued"]
        print(
            f"  {x['t_s']:5.1f}  {q['execution']:6d}/{q['watch']:3d}/{q['intake']:3d}"
            f"           {x['unsent_intents']:6d} {x['sent_intents']:6d}   {x['rss_mb']}"
        )
    done = "NOT drained" if drained is None else f"drained {drained:.1f} s after the load stopped"
    print(f"  backlog growth over the second half: {growth:+.1f} intents/s; {done}")
    for i, m in enumerate(per_worker):
        print(
            f"B4 memory worker process {i}: {m['mb_per_10k']:+.2f} MB per 10k intents "
            f"({m['pct_per_10k']:+.2f}% of its RSS), {m['rss_end']:.0f} MB at the end"
        )
    save("B3_sustained_B4_memory", r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
