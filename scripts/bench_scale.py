"""B1 fan-out at scale: one signal -> 100, 1,000 and 10,000 followers (one leader each, one
stack: the machine's PostgreSQL and Redis, a spawned anvil, one hot-path worker `-c 2`,
production settings), submit -> all accepted by the node, against the floor measured on the
same wallets in the same run (a plain script signing with eth-account and sending in
JSON-RPC batches; at 1,000 also one by one: that entry is B1, `B1_fanout_redis`). Then a
second hot-path worker process is started and the largest fan-out is measured again: does
the work spread across workers?

    .venv/bin/python scripts/bench_scale.py [--sizes 100,1000,10000]
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_fanout import b1_entry, floor, run_signal, save, show  # noqa: E402
from bench_support import BenchStack  # noqa: E402


def entry(n: int, ours: dict[str, float], batch: dict[str, float]) -> dict[str, Any]:
    return {
        "followers": n,
        "accepted_s": ours["accepted_s"],
        "floor_accepted_s": batch["accepted_s"],
        "ratio": ours["accepted_s"] / batch["accepted_s"],
        "cpu_ms_per_intent": ours["cpu_s_per_intent"] * 1000,
        "floor_cpu_ms_per_intent": batch["cpu_s_per_intent"] * 1000,
        "mined_s": ours["mined_s"],
        "known_mined_s": ours["known_mined_s"],  # the watcher's receipts: all recorded mined
    }


def spread(values: list[float]) -> float:
    """max / min - 1: how far apart the figures are (0.2 = within 20%)."""
    return max(values) / min(values) - 1


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000")
    args = ap.parse_args()
    sizes = sorted(int(x) for x in args.sizes.split(","))
    b = BenchStack()
    t_start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    try:
        b.start()
        from eth_utils import to_checksum_address

        wallets: dict[int, tuple[str, list[tuple[int, str, str]]]] = {}
        for n in sizes:
            leader = to_checksum_address("0x" + secrets.token_hex(20))
            b.s.registry.add_leader(leader, "bench")
            wallets[n] = (leader, b.followers(n, leader))
        print(f"{sum(sizes)} followers funded in {time.perf_counter() - t_start:.0f} s")
        b.start_processes()  # after the followers: the workers preload their keys
        ours: dict[int, dict[str, float]] = {}
        top = sizes[-1]
        for n in sizes:
            leader, _ = wallets[n]
            if n != top:  # the largest runs on paths the smaller ones warmed
                run_signal(b, leader, n, "open")  # warm-up: paths, caches, the follower rows
            ours[n] = run_signal(b, leader, n, "open" if n == top else "increase")
        b.add_worker()
        leader, _ = wallets[top]
        two = run_signal(b, leader, top, "increase", known=False)
        # The floors last: they spend the wallets' next nonces outside the system.
        for n in sizes:
            fs = wallets[n][1]
            batch = floor(b, fs, batched=True)
            rows.append(entry(n, ours[n], batch))
            print(
                f"B1 scale {n:>6} followers: accepted {ours[n]['accepted_s']:.2f} s (floor "
                f"{batch['accepted_s']:.2f} s, {rows[-1]['ratio']:.2f}x) | CPU/intent "
                f"{rows[-1]['cpu_ms_per_intent']:.2f} ms (floor "
                f"{rows[-1]['floor_cpu_ms_per_intent']:.2f} ms)",
                flush=True,
            )
            if n == 1000:  # B1 proper: also the one-by-one floor
                one = floor(b, fs, batched=False)
                b1 = b1_entry(n, ours[n], one, batch)
                show(b1)
                save("B1_fanout_redis", b1)
    finally:
        b.stop()
    one_worker = rows[-1]["accepted_s"]
    r = {
        "sizes": rows,
        "cpu_ms_per_intent_spread": spread([x["cpu_ms_per_intent"] for x in rows]),
        "ratio_spread": spread([x["ratio"] for x in rows]),
        "largest": {
            "followers": top,
            "ratio": rows[-1]["ratio"],
            "two_workers_accepted_s": two["accepted_s"],
            "one_worker_accepted_s": one_worker,
            "two_workers_speedup": one_worker / two["accepted_s"],
        },
        "seconds": time.perf_counter() - t_start,
    }
    print(
        f"B1 scale: CPU/intent spread {100 * r['cpu_ms_per_intent_spread']:.0f}% and ratio "
        f"spread {100 * r['ratio_spread']:.0f}% over {', '.join(map(str, sizes))} followers "
        f"(target within 20%); {top}: {rows[-1]['ratio']:.2f}x the floor (target 1.5x); "
        f"a second worker process: {two['accepted_s']:.2f} s vs {one_worker:.2f} s "
        f"({r['largest']['two_workers_speedup']:.2f}x faster)"
    )
    save("B1_scale", r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
