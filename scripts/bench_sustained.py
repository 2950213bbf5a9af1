"""B3 sustained load and B4 memory: signals offered at a fixed rate for `--seconds` (by
default 0.5x the B1 floor rate measured in the same `make bench` run, as signals x
followers); the backlog (queued messages, intents not yet sent) and each worker process's
RSS are sampled; B4 is each process's RSS growth per 10k intents sent over the second half
of the run (warm). Worker recycling off (Celery's default: no max-tasks-per-child). One
phase per `--leaders` count, each on a stack of its own: one leader, then ten leaders whose
followings share the same follower wallets (one account each, a following per leader).

    .venv/bin/python scripts/bench_sustained.py [--seconds 60] [--followers 100] [--leaders 1,10]
        [--rate R]
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


def phase(
    leaders: int, seconds: float, followers: int, rate: float, drain: float
) -> dict[str, Any]:
    """Signals offered round-robin over `leaders` leaders whose followings share the same
    `followers` wallets (one follower account each, a following per leader)."""
    per_s = rate / followers  # signals per second
    b = BenchStack()
    import redis

    broker = redis.Redis(db=12)
    samples: list[dict[str, Any]] = []
    try:
        b.start()
        from eth_utils import to_checksum_address

        names = [to_checksum_address("0x" + secrets.token_hex(20)) for _ in range(leaders)]
        for name in names:
            b.s.registry.add_leader(name, "bench")
        b.followers(followers, names[0], eth=1000, also=tuple(names[1:]))
        b.start_processes()
        pids = [p for w in b.worker_pids() for p in (w, *children(w))]

        def sample(t: float) -> None:
            unsent, sent = backlog(b.s)
            samples.append(
                x := {
                    "t_s": round(t, 2),
                    "queued": {q: int(broker.llen(q)) for q in ("execution", "watch", "intake")},
                    "unsent_intents": unsent,
                    "sent_intents": sent,
                    "rss_mb": [round(rss_mb(p), 1) for p in pids],
                }
            )
            print(f"  t={x['t_s']:.0f}s {x['queued']} unsent {unsent} sent {sent}", flush=True)

        t0 = time.perf_counter()
        submitted = 0
        next_sample = 0.0
        while (now := time.perf_counter() - t0) < seconds:
            due = int(now * per_s) + 1
            while submitted < due:
                leader = names[submitted % leaders]
                first = submitted < leaders
                p = signal_payload(leader, "open" if first else "increase", 10**6)
                assert b.s.intake.submit(p, source="bench").status == "accepted"
                submitted += 1
            if now >= next_sample:
                sample(now)
                next_sample += 5.0
            time.sleep(0.001)
        sample(time.perf_counter() - t0)
        total = submitted * followers
        drained: float | None
        try:
            drained = wait_for(lambda: backlog(b.s)[1] >= total, drain, "drain", 0.1)
        except TimeoutError:
            drained = None
        sample(time.perf_counter() - t0)
    finally:
        b.stop()
    loaded = [x for x in samples if x["t_s"] <= seconds]
    half = loaded[len(loaded) // 2 :]
    growth = slope([x["t_s"] for x in half], [x["unsent_intents"] for x in half])
    sent_rate = slope([x["t_s"] for x in half], [x["sent_intents"] for x in half])
    # Growth per intent once warm: from the second half of the run on (the first signals
    # fill each process's caches once: compiled statements, connections, keys' objects).
    steady = samples[len(samples) // 2 :]
    memory = []
    for i, pid in enumerate(pids):
        xs = [x["sent_intents"] / 10_000 for x in steady]
        ys = [x["rss_mb"][i] for x in steady]
        mb = slope(xs, ys)
        memory.append(
            {
                "pid": pid,
                "mb_per_10k": mb,
                "pct_per_10k": 100 * mb / (ys[0] or 1),
                "rss_end": ys[-1],
            }
        )
    r = {
        "leaders": leaders,
        "followers": followers,
        "seconds": seconds,
        "offered_intents_per_s": rate,
        "sent_intents_per_s": sent_rate,
        "signals": submitted,
        "intents": total,
        "backlog_growth_intents_per_s": growth,
        "drain_after_load_s": drained,
        "samples": samples,
        "memory": memory,
    }
    show_phase(r)
    return r


def show_phase(r: dict[str, Any]) -> None:
    print(
        f"B3 sustained, {r['leaders']} leader(s) sharing {r['followers']} followers: "
        f"{r['offered_intents_per_s']:.0f} intents/s offered for {r['seconds']:.0f} s "
        f"({r['signals']} signals, {r['intents']} intents)"
    )
    print("   t(s)  queued(exec/watch/intake)  unsent  sent   RSS per process (MB)")
    for x in r["samples"]:
        q = x["queued"]
        print(
            f"  {x['t_s']:5.1f}  {q['execution']:6d}/{q['watch']:3d}/{q['intake']:3d}"
            f"           {x['unsent_intents']:6d} {x['sent_intents']:6d}   {x['rss_mb']}"
        )
    d = r["drain_after_load_s"]
    done = "NOT drained" if d is None else f"drained {d:.1f} s after the load stopped"
    print(
        f"  sent {r['sent_intents_per_s']:.0f} intents/s; backlog growth over the second half "
        f"{r['backlog_growth_intents_per_s']:+.1f} intents/s (target flat: 0); {done}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--followers", type=int, default=100)
    ap.add_argument("--leaders", default="1,10", help="one phase per count, each its own stack")
    ap.add_argument("--rate", type=float, help="intents/s offered (default: 0.5x B1 floor)")
    ap.add_argument("--drain", type=float, default=30, help="seconds to wait for the rest")
    args = ap.parse_args()
    measured_floor = floor_rate()
    rate = args.rate or (0.5 * measured_floor if measured_floor else 300.0)
    phases = {}
    for k in (int(x) for x in args.leaders.split(",")):
        name = "one_leader" if k == 1 else f"{'ten' if k == 10 else k}_leaders"
        phases[name] = phase(k, args.seconds, args.followers, rate, args.drain)
        phases[name]["b1_floor_intents_per_s"] = measured_floor
    save("B3_sustained", phases)
    procs = [{"phase": name, **m} for name, ph in phases.items() for m in ph["memory"]]
    worst = max(procs, key=lambda m: m["pct_per_10k"])
    for m in procs:
        print(
            f"B4 memory [{m['phase']}] process {m['pid']}: {m['mb_per_10k']:+.2f} MB per 10k "
            f"intents ({m['pct_per_10k']:+.2f}% of its RSS), {m['rss_end']:.0f} MB at the end"
        )
    print(f"B4 memory: worst {worst['pct_per_10k']:+.2f}% of RSS per 10k intents (target 1%)")
    save("B4_memory", {"worst_pct_per_10k": worst["pct_per_10k"], "processes": procs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
