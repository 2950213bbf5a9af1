"""`copytrade leader txs`: the leader transactions the watcher saw and what each became — a
signal (its id) or ignored with the reason — newest first, without psql."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from core.adapters.postgres.leader_txs import LeaderStore
from core.bootstrap import Services
from core.domain.rows import LeaderTxRow
from core.domain.signals import parse_signal
from tests.support.chain import random_address
from tests.support.databases import fresh_database
from tests.support.procs import copytrade_cmd
from tests.support.stacks import settings_with

CHAIN = 31337


def _hash(n: int) -> str:
    return "0x" + f"{n:064x}"


@dataclass
class Seen:
    env: dict[str, str]
    leader: str  # two signals, an ignored call, a refused signal, one still in the outbox
    other: str  # one ignored call
    sig: dict[str, str]  # name -> signal id

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            copytrade_cmd(*args), env=self.env, capture_output=True, text=True, timeout=60
        )

    def json(self, *args: str) -> Any:
        out = self.cli(*args, "--json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)


def _payload(leader: str, tx_hash: str, index: int) -> dict[str, Any]:
    return {
        "schema": 1,
        "signal_id": f"chain:{CHAIN}:{tx_hash}:{index}",
        "leader": leader,
        "action": "open",
        "asset": "BTC",
        "side": "long",
        "collateral_usd_1e6": 10_000_000,
        "leverage_x": 2,
    }


@pytest.fixture
def seen(stack: Any) -> Iterator[Seen]:
    """Five leader transactions recorded the way the watcher records them (record_block,
    then the outbox drained into signals, or refused by intake)."""
    with fresh_database("ct_leader_txs") as url:
        env = {**stack.env, "COPYTRADE_DATABASE_URL": url, "COLUMNS": "400"}
        s = Services(settings_with(env))
        leader, other = random_address(), random_address()
        lid = s.registry.add_leader(leader, "pytest")[0]
        oid = s.registry.add_leader(other, "pytest")[0]
        store = LeaderStore(s.db)

        def block(n: int, *rows: LeaderTxRow) -> None:
            store.record_block(n, _hash(10_000 + n), _hash(10_000 + n - 1), {}, list(rows))

        a, b, c, d, e = (_hash(n) for n in (0xA, 0xB, 0xC, 0xD, 0xE))
        two = [_payload(leader, a, i) for i in (0, 1)]
        block(100, *(LeaderTxRow(a, i, lid, "signal", payload=p) for i, p in enumerate(two)))
        block(101, LeaderTxRow(b, 0, lid, "ignored", "unknown selector 0x12345678"))
        block(102, LeaderTxRow(c, 0, oid, "ignored", "not the venue: 0x" + "99" * 20))
        block(103, LeaderTxRow(d, 0, lid, "signal", payload=_payload(leader, d, 0)))
        outbox = dict(store.outbox())
        for row_id, payload in outbox.items():
            if payload["signal_id"].split(":")[2] == d:
                store.submitted(row_id, None, "rejected: stale signal older than 300 s")
            else:
                pk = s.signals.insert_signal(parse_signal(payload), lid, "chain")[1]
                store.submitted(row_id, pk, None)
        block(104, LeaderTxRow(e, 0, lid, "signal", payload=_payload(leader, e, 0)))
        sig = {"a0": two[0]["signal_id"], "a1": two[1]["signal_id"]}
        sig["e0"] = f"chain:{CHAIN}:{e}:0"
        try:
            yield Seen(env, leader, other, sig)
        finally:
            s.db.dispose()


def test_leader_txs_json_lists_every_leader_tx_newest_first_with_what_it_became(
    seen: Seen,
) -> None:
    rows = seen.json("leader", "txs")
    assert [r["block"] for r in rows] == [104, 103, 102, 101, 100]
    by_block = {r["block"]: r for r in rows}
    assert by_block[100]["tx_hash"] == _hash(0xA)
    assert by_block[100]["leader"] == seen.leader
    assert by_block[100]["seen_at"]
    assert [(x["index"], x["status"], x["signal_id"]) for x in by_block[100]["actions"]] == [
        (0, "signal", seen.sig["a0"]),
        (1, "signal", seen.sig["a1"]),
    ]
    (refused,) = by_block[103]["actions"]
    assert (refused["status"], refused["reason"]) == (
        "ignored",
        "rejected: stale signal older than 300 s",
    )
    assert by_block[102]["leader"] == seen.other
    (unsent,) = by_block[104]["actions"]
    assert (unsent["status"], unsent["signal_id"], unsent["submitted"]) == (
        "signal",
        seen.sig["e0"],
        False,
    )


def test_leader_txs_filters_by_leader_and_ignored_and_stops_at_the_limit(seen: Seen) -> None:
    ignored = seen.json("leader", "txs", "--leader", seen.leader.lower(), "--ignored")
    assert [(r["block"], [x["reason"] for x in r["actions"]]) for r in ignored] == [
        (103, ["rejected: stale signal older than 300 s"]),
        (101, ["unknown selector 0x12345678"]),
    ]
    assert [r["block"] for r in seen.json("leader", "txs", "--leader", seen.other)] == [102]
    assert [r["block"] for r in seen.json("leader", "txs", "--limit", "2")] == [104, 103]


def test_leader_txs_table_names_the_signal_ids_and_the_reasons(seen: Seen) -> None:
    out = seen.cli("leader", "txs", "--leader", seen.leader)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    (a,) = [ln for ln in lines if _hash(0xA) in ln]
    assert seen.sig["a0"] in a
    assert seen.sig["a1"] in a
    assert "100" in a
    (b,) = [ln for ln in lines if _hash(0xB) in ln]
    assert "ignored: unknown selector 0x12345678" in b
    (e,) = [ln for ln in lines if _hash(0xE) in ln]
    assert "not yet submitted" in e
    assert _hash(0xC) not in out.stdout  # the other leader's
    assert lines.index(e) < lines.index(b) < lines.index(a)  # newest first


@pytest.mark.parametrize(
    ("leader", "reason"),
    [("0x1234", "bad_address"), ("0x" + "Ab" * 20, "bad_checksum"), (None, "unknown_leader")],
)
def test_leader_txs_refuses_a_malformed_or_unknown_leader_in_one_line_exit_2(
    seen: Seen, leader: str | None, reason: str
) -> None:
    out = seen.cli("leader", "txs", "--leader", leader or random_address())
    assert out.returncode == 2, out.stdout
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert reason in out.stderr
