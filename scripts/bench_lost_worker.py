"""A lost worker: a 1,000-follower signal whose whole hot-path worker (main process and
pool) is SIGKILLed once the signal's intents exist, and started again `--restart-after`
seconds later. Measured: submit -> all accepted by the node, against the same signal
unfaulted in the same run; the target is 2x the unfaulted time plus the restart delay.
Then every order is waited for on chain and `copytrade verify` counts duplicates (more than
one order on chain for a client order id) and any other breach.

    .venv/bin/python scripts/bench_lost_worker.py [--followers 1000] [--restart-after 5]
"""

from __future__ import annotations

import argparse
import secrets
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_fanout import counts, run_signal, save  # noqa: E402
from bench_support import BenchStack, signal_payload, wait_for  # noqa: E402


def intents_of(s: Any, pk: int) -> int:
    from sqlalchemy import text

    with s.db.tx() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM intents WHERE signal_pk = :pk"), {"pk": pk}
            ).scalar_one()
        )


def faulted(b: BenchStack, leader: str, n: int, restart_after: float) -> dict[str, float]:
    s = b.s
    t0 = time.perf_counter()
    answer = s.intake.submit(signal_payload(leader, "increase", 10**7), source="bench")
    assert answer.status == "accepted", answer
    pk = answer.signal_pk
    wait_for(lambda: intents_of(s, pk) >= n, 60, "the signal's intents", 0.002)
    killed_at = time.perf_counter() - t0
    b.kill_worker(0)
    sent_when_killed = counts(s, pk)[0]
    time.sleep(restart_after)
    b.start_worker(0)
    restarted_at = time.perf_counter() - t0
    ready: list[float] = []
    app = s.intake.dispatcher.app
    me = f"b0@{socket.gethostname()}"

    def answered() -> None:  # the new worker's first answer to a ping: it is consuming
        while not app.control.ping(destination=[me], timeout=0.2):
            pass
        ready.append(time.perf_counter() - t0)

    watch = threading.Thread(target=answered, daemon=True)
    watch.start()
    wait_for(lambda: counts(s, pk)[0] >= n, 600, "all accepted after the restart", 0.01)
    accepted = time.perf_counter() - t0
    watch.join(30)
    wait_for(lambda: counts(s, pk)[1] >= n, 300, "all known mined", 0.05)
    return {
        "accepted_s": accepted,
        "killed_at_s": killed_at,
        "sent_when_killed": sent_when_killed,
        "restarted_at_s": restarted_at,
        "ready_after_restart_s": (ready[0] - restarted_at) if ready else float("nan"),
        "known_mined_s": time.perf_counter() - t0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--followers", type=int, default=1000)
    ap.add_argument("--restart-after", type=float, default=5.0)
    args = ap.parse_args()
    n = args.followers
    b = BenchStack()
    try:
        b.start()
        from eth_utils import to_checksum_address

        from core.services.verify import verify

        leader = to_checksum_address("0x" + secrets.token_hex(20))
        b.s.registry.add_leader(leader, "bench")
        b.followers(n, leader)
        b.start_processes()
        run_signal(b, leader, n, "open")  # warm-up
        clean = run_signal(b, leader, n, "increase")
        lost = faulted(b, leader, n, args.restart_after)
        s = b.s
        report = verify(s.audit_queries, s.chain, s.venue, s.settings.max_signal_age_s)
    finally:
        b.stop()
    limit = 2 * clean["accepted_s"] + args.restart_after
    duplicates = sum("orders on chain" in x for x in report.breaches)
    r = {
        "followers": n,
        "restart_after_s": args.restart_after,
        "unfaulted_s": clean["accepted_s"],
        "faulted_s": lost["accepted_s"],
        "target_s": limit,
        "ratio": lost["accepted_s"] / limit,
        "faulted_over_unfaulted": lost["accepted_s"] / clean["accepted_s"],
        "killed_at_s": lost["killed_at_s"],
        "sent_when_killed": lost["sent_when_killed"],
        "restarted_at_s": lost["restarted_at_s"],
        "ready_after_restart_s": lost["ready_after_restart_s"],
        "known_mined_s": lost["known_mined_s"],
        "duplicates": duplicates,
        "orders_on_chain": report.figures.get("orders_on_chain", 0),
        "verify_breaches": len(report.breaches),
    }
    print(
        f"Lost worker, {n} followers, SIGKILL at {r['killed_at_s']:.2f} s "
        f"({r['sent_when_killed']} sent), restarted {args.restart_after:.0f} s later: all "
        f"accepted at {r['faulted_s']:.2f} s (the new worker answered "
        f"{r['ready_after_restart_s']:.2f} s after its start) vs "
        f"{r['unfaulted_s']:.2f} s unfaulted; target "
        f"{limit:.2f} s (2x + restart delay): {r['ratio']:.2f}x | verify: "
        f"{duplicates} duplicates, {r['orders_on_chain']} orders on chain, "
        f"{r['verify_breaches']} breaches"
    )
    for line in report.breaches[:10]:
        print(f"  breach: {line}")
    save("lost_worker", r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
