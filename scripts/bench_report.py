"""Every figure of `make bench` in one table: its value, the floor measured in the same run,
the ratio and the target (issue 33), from bench/results.json; the table is also written
there under `summary` (one entry per figure, by name). `--markdown` prints it for
docs/benchmarks.md.

    .venv/bin/python scripts/bench_report.py [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_fanout import RESULTS  # noqa: E402


@dataclass
class Figure:
    name: str  # the key under `summary`
    what: str
    value: str
    floor: str
    ratio: float | None  # the number the target is about
    target: str
    met: bool | None


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def sec(x: float) -> str:
    return f"{x:.2f} s"


def figures(r: dict[str, Any]) -> list[Figure]:
    out: list[Figure] = []

    def add(key: str, build: Callable[[dict[str, Any]], list[Figure]]) -> None:
        if key in r:
            out.extend(build(r[key]))
        else:
            out.append(Figure(key, f"{key}: not measured in this run", "", "", None, "", False))

    def b1(name: str, label: str) -> Callable[[dict[str, Any]], list[Figure]]:
        def build(x: dict[str, Any]) -> list[Figure]:
            a, m = x["accepted"], x["mined"]
            return [
                Figure(
                    f"{name}.accepted",
                    f"{label}: submit -> {x['followers']} accepted by the node",
                    sec(a["value_s"]),
                    f"{sec(a['floor_s'])} (batched)",
                    a["ratio"],
                    "<= 1.0x",
                    a["ratio"] <= 1.0,
                ),
                Figure(
                    f"{name}.mined",
                    f"{label}: submit -> all mined",
                    sec(m["value_s"]),
                    sec(m["floor_s"]),
                    m["ratio"],
                    "(info)",
                    None,
                ),
            ]

        return build

    add("B1_fanout_redis", b1("B1_fanout_redis", "B1 fan-out, simple venue, Redis"))
    add("B1_fanout_gmx_redis", b1("B1_fanout_gmx_redis", "B1 fan-out, GMX venue, Redis"))

    def b2(x: dict[str, Any]) -> list[Figure]:
        return [
            Figure(
                f"B2_latency.{q}",
                f"B2 latency {q}, 1 follower, submit -> broadcast",
                ms(x[f"{q}_s"]),
                ms(x[f"floor_{q}_s"]),
                x[f"ratio_{q}"],
                f"<= {limit}x",
                x[f"ratio_{q}"] <= limit,
            )
            for q, limit in (("p50", 1.5), ("p99", 2.0))
        ]

    add("B2_latency", b2)

    def b3(x: dict[str, Any]) -> list[Figure]:
        rows = []
        for phase, p in x.items():
            offered = p["offered_intents_per_s"]
            growth = p["backlog_growth_intents_per_s"]
            rows.append(
                Figure(
                    f"B3_sustained.{phase}.backlog_growth_intents_per_s",
                    f"B3 sustained {p['seconds']:.0f} s, {p['leaders']} leader(s) x "
                    f"{p['followers']} followers: backlog growth (sent "
                    f"{p['sent_intents_per_s']:.0f}/s)",
                    f"{growth:+.0f} intents/s",
                    f"{offered:.0f}/s offered (0.5x B1 floor)",
                    p["sent_intents_per_s"] / offered,
                    "flat (growth <= 5% of offered)",
                    growth <= 0.05 * offered,
                )
            )
        return rows

    add("B3_sustained", b3)

    def lost(x: dict[str, Any]) -> list[Figure]:
        return [
            Figure(
                "lost_worker.ratio",
                f"Lost worker ({x['followers']} followers, SIGKILL, restart "
                f"{x['restart_after_s']:.0f} s later): submit -> all accepted",
                sec(x["faulted_s"]),
                f"{sec(x['unfaulted_s'])} unfaulted; limit {sec(x['target_s'])}",
                x["ratio"],
                "<= 1.0x of 2x unfaulted + restart",
                x["ratio"] <= 1.0,
            ),
            Figure(
                "lost_worker.duplicates",
                "Lost worker: duplicate orders on chain (verify)",
                str(x["duplicates"]),
                f"{x['orders_on_chain']} orders on chain",
                None,
                "0",
                x["duplicates"] == 0 and x["verify_breaches"] == 0,
            ),
        ]

    add("lost_worker", lost)

    def b4(x: dict[str, Any]) -> list[Figure]:
        w = x["worst_pct_per_10k"]
        return [
            Figure(
                "B4_memory.worst_pct_per_10k",
                "B4 memory: worst process's RSS growth per 10k intents (B3's processes)",
                f"{w:+.2f}%",
                "",
                w,
                "<= 1%",
                w <= 1.0,
            )
        ]

    add("B4_memory", b4)

    def scale(x: dict[str, Any]) -> list[Figure]:
        rows = [
            Figure(
                f"B1_scale.n{s['followers']}",
                f"Scale: {s['followers']} followers, accepted (CPU "
                f"{s['cpu_ms_per_intent']:.2f} ms/intent, floor "
                f"{s['floor_cpu_ms_per_intent']:.2f})",
                sec(s["accepted_s"]),
                sec(s["floor_accepted_s"]),
                s["ratio"],
                "<= 1.5x" if s is x["sizes"][-1] else "(flat)",
                s["ratio"] <= 1.5 if s is x["sizes"][-1] else None,
            )
            for s in x["sizes"]
        ]
        big = x["largest"]
        rows += [
            Figure(
                f"B1_scale.{key}",
                f"Scale: {what}, spread over the fan-outs",
                f"{100 * x[key]:.0f}%",
                "",
                x[key],
                "<= 20%",
                x[key] <= 0.2,
            )
            for key, what in (
                ("cpu_ms_per_intent_spread", "CPU per intent"),
                ("ratio_spread", "ratio to the floor"),
            )
        ]
        rows += [
            Figure(
                "B1_scale.two_workers_speedup",
                f"Scale: {big['followers']} followers with a second worker process",
                sec(big["two_workers_accepted_s"]),
                f"{sec(big['one_worker_accepted_s'])} with one",
                big["two_workers_speedup"],
                ">= 1.1x (faster, past the noise)",
                big["two_workers_speedup"] >= 1.1,
            ),
        ]
        return rows

    add("B1_scale", scale)

    def leader(x: dict[str, Any]) -> list[Figure]:
        return [
            Figure(
                "leader_latency_gmx.blocks",
                f"Leader fill -> followers' requests broadcast (GMX, {x['block_s']:.0f} s "
                f"blocks), median (p95 {ms(x['p95_s'])})",
                ms(x["median_s"]),
                f"{ms(x['block_s'])} (a block); API floor {ms(x['floor_median_s'])}",
                x["blocks"],
                "<= 1 block",
                x["blocks"] <= 1.0,
            )
        ]

    add("leader_latency_gmx", leader)
    return out


def mark(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "**no**")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    if not RESULTS.exists():
        print(f"{RESULTS}: no results yet; run `make bench`", file=sys.stderr)
        return 1
    r = json.loads(RESULTS.read_text())
    rows = figures(r)
    r["summary"] = {f.name: asdict(f) for f in rows}
    RESULTS.write_text(json.dumps(r, indent=2) + "\n")
    if args.markdown:
        print("| figure | ours | floor (same run) | ratio | target | met |")
        print("|---|---|---|---|---|---|")
        for f in rows:
            ratio = "" if f.ratio is None else f"{f.ratio:.2f}"
            floor = f.floor or "—"
            print(f"| {f.what} | {f.value} | {floor} | {ratio} | {f.target} | {mark(f.met)} |")
        return 0
    width = max(len(f.what) for f in rows)
    for f in rows:
        ratio = "" if f.ratio is None else f"{f.ratio:5.2f}"
        print(
            f"{f.what:<{width}}  {f.value:>16}  floor {f.floor or '-':<34} ratio {ratio:>5}  "
            f"target {f.target:<32} {mark(f.met).strip('*')}"
        )
    missed = [f.name for f in rows if f.met is False]
    print(f"{len(rows)} figures; targets missed: {', '.join(missed) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
