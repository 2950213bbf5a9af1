"""B1 fan-out: one leader signal -> N followers (each its own funded wallet, keys cached),
submit -> all N accepted by the node, and -> all mined; against a floor measured in the
same run: a plain script signing the same N transactions (eth-account on coincurve) and
sending them (a) one by one as raw JSON-RPC posts on one keep-alive session, (b) as
JSON-RPC batches. anvil: --block-time 1 --gas-limit 1e9 --order fifo (every run).
On `--venue gmx` (the local GMX venue) each transaction is a request — the multicall with
its execution fee as value and the collateral — and "mined" is the request mined (the dev
keeper fills the warm-up's requests, in one broadcast a round, so that the measured
signal's are not held behind them; it is stopped before the measured signal: execution is
the keeper's time, not ours). The GMX run prints its ratios beside the simple venue's.

    .venv/bin/python scripts/bench_fanout.py [--followers 1000] [--broker redis|amqp]
        [--venue simple|gmx|both]
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import (  # noqa: E402
    GMX_GAS,
    GWEI,
    ROOT,
    BenchStack,
    Rpc,
    cpu_seconds,
    signal_payload,
    wait_for,
)

from core.adapters.venue import encode_order
from core.domain.types import Action  # noqa: E402
from core.domain.venue import OrderCall

RESULTS = ROOT / "bench" / "results.json"


def counts(s: Any, pk: int) -> tuple[int, int]:
    """(intents accepted by the node, intents the system knows mined or confirmed)."""
    from sqlalchemy import text

    with s.db.tx() as conn:
        row = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL),"
                " count(*) FILTER (WHERE state IN ('mined', 'executed', 'confirmed'))"
                " FROM intents WHERE signal_pk = :pk"
            ),
            {"pk": pk},
        ).one()
    return int(row[0]), int(row[1])


def hashes(s: Any, pk: int) -> list[str]:
    from sqlalchemy import text

    with s.db.tx() as conn:
        return [
            r[0]
            for r in conn.execute(
                text("SELECT tx_hash FROM intents WHERE signal_pk = :pk AND tx_hash IS NOT NULL"),
                {"pk": pk},
            )
        ]


def filled(s: Any, n: int) -> bool:
    from sqlalchemy import text

    with s.db.tx() as conn:
        done = conn.execute(
            text("SELECT count(*) FROM intents WHERE state IN ('executed', 'confirmed')")
        ).scalar_one()
    return int(done) >= n


@contextmanager
def keeping(b: BenchStack) -> Iterator[None]:
    """On the GMX venue, a dev keeper filling the warm-up's requests (the measured signal's
    "mined" is its requests mined: filling them is the keeper's time, not ours)."""
    if b.gmx is None:
        yield
        return
    from core.adapters.gmx.keeper import DevKeeper
    from core.demo.scenario import PRICES
    from core.domain.sizing import usd_to_e6

    prices = {a: usd_to_e6(p) for a, p in PRICES.items()}
    keeper = DevKeeper(b.s.chain, b.deployer, 31337, b.gmx, prices, delay_s=0)
    with keeper.running(period_s=0.2):
        yield


def all_receipts(rpc: Rpc, txs: list[str]) -> bool:
    for i in range(0, len(txs), 500):
        got = rpc.batch([("eth_getTransactionReceipt", [h]) for h in txs[i : i + 500]])
        if any(not isinstance(r, dict) or "blockNumber" not in r for r in got):
            return False
    return True


def after_next_block(rpc: Rpc) -> None:
    """Start just after a block is mined, so that every run has the same time to the next
    block (with --block-time 1 the phase alone would swing 'mined' by up to a second)."""
    first = rpc.call("eth_blockNumber")
    wait_for(lambda: rpc.call("eth_blockNumber") != first, 5, "a new block", 0.002)


def run_signal(
    b: BenchStack, leader: str, n: int, action: str, known: bool = True
) -> dict[str, float]:
    """Submit -> all accepted by the node -> all mined on chain -> (`known`) all known
    mined by the watcher."""
    s = b.s
    p = signal_payload(leader, action, 10 * 10**6)
    after_next_block(Rpc(b.env["COPYTRADE_RPC_URL"]))
    cpu0 = cpu_seconds(b.worker_pids())
    t0 = time.perf_counter()
    answer = s.intake.submit(p, source="bench")
    assert answer.status == "accepted", answer
    pk = answer.signal_pk
    accepted = wait_for(lambda: counts(s, pk)[0] >= n, 300, "all accepted by the node")
    cpu = cpu_seconds(b.worker_pids()) - cpu0
    rpc = Rpc(b.env["COPYTRADE_RPC_URL"])
    txs = hashes(s, pk)
    mined_chain = wait_for(lambda: all_receipts(rpc, txs), 120, "all mined", 0.02)
    mined_chain += accepted
    if not known:
        return {"accepted_s": accepted, "mined_s": mined_chain, "cpu_s_per_intent": cpu / n}
    seen = wait_for(lambda: counts(s, pk)[1] >= n, 120, "all known mined") + accepted
    seen = max(seen, time.perf_counter() - t0)
    return {
        "accepted_s": accepted,
        "mined_s": mined_chain,
        "known_mined_s": seen,
        "cpu_s_per_intent": cpu / n,
    }


def _order_data(b: BenchStack, account: str) -> tuple[str, bytes, int, int]:
    """(to, calldata, value, gas) of the order copytrade would send for one follower."""
    o = OrderCall(
        Action.INCREASE, "BTC", True, 10 * 10**6, 2, 101_000 * 10**6, secrets.token_bytes(32)
    )
    if b.gmx is None:
        return b.env["COPYTRADE_VENUE_ADDRESS"], encode_order(o), 0, 200_000
    from dataclasses import replace

    s = b.s
    fee = s.pipeline.terms.get().execution_fee(True, s.settings.fee_ceiling_wei)
    data = s.venue.encode_order(replace(o, account=account, execution_fee_wei=fee))
    return s.venue_address, data, fee, GMX_GAS


def floor(b: BenchStack, followers: list[tuple[int, str, str]], batched: bool) -> dict[str, float]:
    """Sign N order transactions (one per follower wallet) and send them."""
    from eth_account import Account

    rpc = Rpc(b.env["COPYTRADE_RPC_URL"])
    nonces = rpc.batch([("eth_getTransactionCount", [addr, "pending"]) for _, addr, _ in followers])
    accounts = [Account.from_key(key) for _, _, key in followers]  # keys cached
    after_next_block(rpc)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    raws = []
    for acct, nonce in zip(accounts, nonces, strict=True):
        to, data, value, gas = _order_data(b, acct.address)
        signed = acct.sign_transaction(
            {
                "type": 2,
                "chainId": 31337,
                "nonce": int(nonce, 16),
                "to": to,
                "value": value,
                "data": data,
                "gas": gas,
                "maxFeePerGas": 100 * GWEI,
                "maxPriorityFeePerGas": GWEI,
            }
        )
        raws.append("0x" + signed.raw_transaction.hex().removeprefix("0x"))
    txs = []
    if batched:
        for i in range(0, len(raws), 200):
            got = rpc.batch([("eth_sendRawTransaction", [r]) for r in raws[i : i + 200]])
            assert all(isinstance(h, str) for h in got), got[:3]
            txs += got
    else:
        txs = [rpc.call("eth_sendRawTransaction", r) for r in raws]
    accepted = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    mined = accepted + wait_for(lambda: all_receipts(rpc, txs), 120, "floor mined", 0.02)
    return {"accepted_s": accepted, "mined_s": mined, "cpu_s_per_intent": cpu / len(raws)}


def bench(n: int, broker: str, venue: str = "simple") -> dict[str, Any]:
    b = BenchStack(broker=broker, venue=venue)
    try:
        b.start()
        from eth_utils import to_checksum_address

        leader = to_checksum_address("0x" + secrets.token_hex(20))
        b.s.registry.add_leader(leader, "bench")
        fs = b.followers(n, leader)
        b.start_processes()  # after the followers: the workers preload their keys
        print(f"[{broker}] {n} followers funded; warm-up signal (keys cached, paths warm)")
        with keeping(b):
            run_signal(b, leader, n, "open")
            if b.gmx is not None:  # a follower's next request waits for its last one's fill
                wait_for(lambda: filled(b.s, n), 300, "the warm-up filled", 0.05)
        ours = run_signal(b, leader, n, "increase")
        one = floor(b, fs, batched=False)
        batch = floor(b, fs, batched=True)
    finally:
        b.stop()
    return b1_entry(n, ours, one, batch, broker, venue)


def b1_entry(
    n: int,
    ours: dict[str, float],
    one: dict[str, float],
    batch: dict[str, float],
    broker: str = "redis",
    venue: str = "simple",
) -> dict[str, Any]:
    """The B1 record: ours against the best of both floors."""
    best = min((one, batch), key=lambda f: f["accepted_s"])
    best_mined = min(one["mined_s"], batch["mined_s"])
    return {
        "broker": broker,
        "venue": venue,
        "followers": n,
        "anvil": "--block-time 1 --gas-limit 1000000000 --order fifo",
        "ours": ours,
        "floor_sequential": one,
        "floor_batched": batch,
        "accepted": {
            "value_s": ours["accepted_s"],
            "floor_s": best["accepted_s"],
            "ratio": ours["accepted_s"] / best["accepted_s"],
        },
        "mined": {
            "value_s": ours["mined_s"],
            "floor_s": best_mined,
            "ratio": ours["mined_s"] / best_mined,
        },
        "cpu_s_per_intent": {"ours": ours["cpu_s_per_intent"], "floor": best["cpu_s_per_intent"]},
    }


def show(r: dict[str, Any]) -> None:
    a, m = r["accepted"], r["mined"]
    print(
        f"B1 fan-out [{r.get('venue', 'simple')}, {r['broker']}] {r['followers']} followers: "
        f"accepted {a['value_s']:.2f} s (floor {a['floor_s']:.2f} s, {a['ratio']:.2f}x) | "
        f"mined {m['value_s']:.2f} s (floor {m['floor_s']:.2f} s, {m['ratio']:.2f}x) | "
        f"known mined {r['ours']['known_mined_s']:.2f} s | CPU/intent "
        f"{r['cpu_s_per_intent']['ours'] * 1000:.2f} ms (floor "
        f"{r['cpu_s_per_intent']['floor'] * 1000:.2f} ms) | floor one-by-one "
        f"{r['floor_sequential']['accepted_s']:.2f} s, batched "
        f"{r['floor_batched']['accepted_s']:.2f} s"
    )


def save(key: str, value: Any) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[key] = value
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--followers", type=int, default=1000)
    ap.add_argument("--broker", choices=("redis", "amqp", "both"), default="both")
    ap.add_argument("--venue", choices=("simple", "gmx", "both"), default="simple")
    args = ap.parse_args()
    for venue in ("simple", "gmx") if args.venue == "both" else (args.venue,):
        for broker in ("redis", "amqp") if args.broker == "both" else (args.broker,):
            r = bench(args.followers, broker, venue)
            show(r)
            save(f"B1_fanout_{broker}" if venue == "simple" else f"B1_fanout_{venue}_{broker}", r)
            if venue != "simple":
                beside(r)
    return 0


def beside(r: dict[str, Any]) -> None:
    """The GMX run's ratios beside the simple venue's (same broker, this run or the last
    one recorded in bench/results.json)."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    simple = data.get(f"B1_fanout_{r['broker']}")
    if simple is None:
        print("B1 beside the simple venue: no simple-venue run recorded yet")
        return
    print(
        f"B1 ratios [{r['broker']}], {r['venue']} vs simple: accepted "
        f"{r['accepted']['ratio']:.2f}x vs {simple['accepted']['ratio']:.2f}x | mined "
        f"{r['mined']['ratio']:.2f}x vs {simple['mined']['ratio']:.2f}x"
    )


if __name__ == "__main__":
    raise SystemExit(main())
