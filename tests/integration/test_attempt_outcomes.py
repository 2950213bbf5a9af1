"""`intent show` gives every attempt one outcome, derived from the attempt's facts
(core/domain/attempt_outcomes.py), on the real PostgreSQL and anvil: written ahead and
not yet broadcast, broadcast, replacements written ahead that never went out (one refused
by the node), then the first attempt mined — the replacements stay `never sent` and
`refused: …`, not `replaced` (the label the receipt store writes on every other attempt)."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from core.bootstrap import Services
from core.domain.signals import parse_signal
from core.domain.states import IntentState
from core.domain.types import Mode
from tests.support import procs
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import settings_with

REFUSAL = "underpriced: replacement transaction underpriced"


@pytest.fixture
def live(stack: Any) -> Iterator[Flow]:
    with fresh_database("ct_outcomes") as url:
        env = {**stack.env, "COPYTRADE_DATABASE_URL": url}
        s = Services(settings_with(env))
        s.mode.request(Mode.LIVE, "pytest", "attempt outcomes")
        yield Flow(stack, services=s, env=env)
        s.db.dispose()


def cli(flow: Flow, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        env={**flow.env, "COLUMNS": "300"},  # a table wide enough not to wrap its cells
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def shown(flow: Flow, intent_id: int) -> dict[str, Any]:
    return dict(json.loads(cli(flow, "intent", "show", str(intent_id), "--json")))


def table_outcomes(flow: Flow, intent_id: int, hashes: list[str]) -> list[str]:
    """The `outcome` cell of each attempt's row in the attempts table, by tx_hash."""
    lines = cli(flow, "intent", "show", str(intent_id)).splitlines()
    at = next(i for i, ln in enumerate(lines) if "outcome" in ln and "max_fee" in ln)
    col = [c.strip() for c in lines[at].split("┃")].index("outcome")
    rows = {h: next(ln for ln in lines[at:] if h in ln) for h in hashes}
    return [[c.strip() for c in rows[h].split("│")][col] for h in hashes]


def outcomes(flow: Flow, intent_id: int) -> list[str]:
    return [a["outcome"] for a in shown(flow, intent_id)["attempts"]]


def write_ahead_replacement(flow: Flow, intent_id: int) -> int:
    """A replacement claimed and written ahead (as the stuck scan does) but never broadcast:
    its bytes are not a transaction, so nothing can send it by mistake."""
    (n,) = flow.s.attempts.newest((IntentState.SENT,), intent_id)
    claimed = flow.s.attempts.claim(
        n, "order", "0x" + secrets.token_hex(32), b"never broadcast", n.fees, n.gas_limit
    )
    assert claimed is not None
    return claimed


def test_each_attempt_shows_one_outcome_from_written_ahead_to_mined(live: Flow) -> None:
    s = live.s
    leader = live.leader()
    live.follower(leader)
    spec = parse_signal(live.payload(leader, collateral_usd="10", leverage=1))
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    s.pipeline.size(pk)
    assert s.pipeline.build(pk) == 1
    (intent,) = live.q.intents(signal_id=spec.signal_id)
    assert outcomes(live, intent["id"]) == ["waiting to send"]

    assert s.pipeline.send(pk) == 1
    assert outcomes(live, intent["id"]) == ["pending"]

    write_ahead_replacement(live, intent["id"])
    refused = write_ahead_replacement(live, intent["id"])
    s.attempts.record_error(refused, REFUSAL)
    assert outcomes(live, intent["id"]) == ["replaced", "never sent", f"refused: {REFUSAL}"]

    first = intent["tx_hash"]
    procs.wait_until(lambda: first in s.chain.receipts([first]), 20, "the first attempt mined")
    procs.wait_until(
        lambda: (s.watcher.poll(), live.q.intent(intent["id"])["state"])[1] == "confirmed",
        20,
        "confirmed",
    )
    detail = shown(live, intent["id"])
    got = [(a["tx_hash"] == first, a["outcome"]) for a in detail["attempts"]]
    assert got == [(True, "mined"), (False, "never sent"), (False, f"refused: {REFUSAL}")]
    hashes = [a["tx_hash"] for a in detail["attempts"]]
    assert table_outcomes(live, intent["id"], hashes) == [a["outcome"] for a in detail["attempts"]]
