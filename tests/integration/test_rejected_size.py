"""A rejected intent keeps the size sizing computed, on the real PostgreSQL: the row holds
the collateral, leverage and notional the order would have had (so "over the limit by how
much" can be read), `intent show` and `intents list` show it (table and --json), and the
notional of a rejected intent is never counted as the follower's exposure."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from core.adapters.postgres.tables import intents
from core.domain.signals import parse_signal
from tests.support.flow import Flow, own_flow

USD = 10**6


@pytest.fixture
def own(stack: Any) -> Iterator[Flow]:
    with own_flow(stack, "ct_rejsize") as flow:
        yield flow


def sized(flow: Flow, leader: str, collateral_usd: str, leverage: int) -> dict[str, Any]:
    """One signal of `leader` expanded and sized here; its only intent's row."""
    s = flow.s
    spec = parse_signal(flow.payload(leader, collateral_usd=collateral_usd, leverage=leverage))
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    s.pipeline.size(pk)
    (row,) = flow.q.intents(signal_id=spec.signal_id)
    return row


def cli(flow: Flow, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        env={**flow.env, "COLUMNS": "250"},  # a table wide enough not to wrap its cells
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_max_position_rejection_keeps_its_notional_in_the_row_and_the_cli_shows_it(
    own: Flow,
) -> None:
    leader = own.leader()
    own.follower(leader, max_position_usd_1e6=500 * USD)
    got = sized(own, leader, "100", 6)  # 100 USD x 6 = 600 USD > 500
    assert (got["state"], got["reason"]) == ("rejected", "max_position")
    with own.s.db.tx() as conn:
        row = conn.execute(
            select(
                intents.c.collateral_usd_1e6,
                intents.c.leverage_x,
                intents.c.notional_usd_1e6,
                intents.c.acceptable_price_usd_1e6,
                intents.c.nonce,
            ).where(intents.c.id == got["id"])
        ).one()
    assert tuple(row) == (100 * USD, 6, 600 * USD, None, None)

    shown = json.loads(cli(own, "intent", "show", str(got["id"]), "--json"))
    assert (shown["state"], shown["reason"]) == ("rejected", "max_position")
    assert (shown["notional_usd_1e6"], shown["notional_usd"]) == (600 * USD, "600")
    listed = json.loads(cli(own, "intents", "list", "--signal", got["signal_id"], "--json"))
    assert [(r["id"], r["notional_usd_1e6"], r["notional_usd"]) for r in listed] == [
        (got["id"], 600 * USD, "600")
    ]
    header, row_ = _table_lines(cli(own, "intents", "list", "--signal", got["signal_id"]))
    assert dict(zip(header, row_, strict=True))["notional_usd"] == "600"
    fields = _table_lines(cli(own, "intent", "show", str(got["id"])))
    assert ["notional_usd", "600"] in fields


def _table_lines(text: str) -> list[list[str]]:
    """A rich table's header and rows as lists of cell texts."""
    return [
        [c.strip() for c in line.strip().strip("┃│").split("┃" if "┃" in line else "│")]
        for line in text.splitlines()
        if line.strip().startswith(("┃", "│"))
    ]


def test_a_rejected_intents_notional_is_not_counted_as_exposure(own: Flow) -> None:
    leader = own.leader()
    own.follower(leader, max_position_usd_1e6=500 * USD)
    over = sized(own, leader, "100", 6)
    assert (over["state"], over["notional_usd_1e6"]) == ("rejected", 600 * USD)
    # Exactly at the limit passes only if the rejected 600 USD is not held: 0 + 500 <= 500.
    at_limit = sized(own, leader, "100", 5)
    assert (at_limit["state"], at_limit["reason"]) == ("created", None)
    assert at_limit["notional_usd_1e6"] == 500 * USD
