"""What a follower reads: each event in words with the follower's own facts only, every
rejection reason of docs/risk.md in plain words (with its figures), one message per
destination and signal in order, and the retry backoff."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.settings import settings_from
from core.domain.notifications import (
    PLAIN,
    Pending,
    backoff_s,
    group,
    line,
    plain,
    render,
)

ROOT = Path(__file__).resolve().parents[2]
TX = "0x" + "ab" * 32
URL = "https://arbiscan.io/tx/{tx_hash}"
OPEN = {"signal_id": "s-1", "action": "open", "asset": "BTC", "side": "long"}


@pytest.mark.parametrize(
    ("event", "facts", "want"),
    [
        (
            "executed",
            {**OPEN, "notional_usd_1e6": 10_000_000, "tx_hash": TX},
            f"Copied: open BTC long, 10 USD — https://arbiscan.io/tx/{TX}",
        ),
        (
            "executed",
            {**OPEN, "fill_size_usd_1e6": 9_990_000, "fill_price_usd_1e6": 100_300_000_000},
            "Copied: open BTC long, 9.99 USD at 100,300 USD",
        ),
        (
            "rejected",
            {**OPEN, "reason": "max_position: 1001 > 1000"},
            "Not copied: open BTC long — it would take your position over your limit (1001 > 1000)",
        ),
        (
            "rejected",
            {**OPEN, "reason": "subaccount_exhausted: 5 of 5 actions used"},
            "Not copied: open BTC long — your wallet's permission for this key has no actions "
            "left (5 of 5 actions used)",
        ),
        (
            "failed",
            {**OPEN, "reason": "internal: KeyError"},
            "Not copied: open BTC long — an internal error; the operator has been told",
        ),
        (
            "venue_cancelled",
            {**OPEN, "reason": "OrderNotFulfillableAtAcceptablePrice"},
            "Cancelled by the venue: open BTC long — OrderNotFulfillableAtAcceptablePrice; "
            "your collateral is returned",
        ),
        (
            "cancelled",
            {**OPEN, "reason": "stale"},
            "Withdrawn before it executed: open BTC long "
            "(the leader's trade was too old to copy by the time it could be sent)",
        ),  # fmt: skip
        (
            "held",
            OPEN,
            "Waiting: open BTC long is held at the fee ceiling; it stays queued "
            "until fees fall or the operator raises the ceiling",
        ),  # fmt: skip
        (
            "rejected",
            {**OPEN, "reason": "novel_reason: x"},
            "Not copied: open BTC long — novel_reason: x",
        ),
    ],
)
def test_each_event_reads_in_words(event: str, facts: dict[str, object], want: str) -> None:
    assert line(event, facts, URL) == want


def test_every_reason_of_the_risk_table_has_plain_words() -> None:
    text = (ROOT / "docs" / "risk.md").read_text()
    table = text.split("| order | reason | rule |")[1].split("\n\n")[0]
    codes = set(re.findall(r"^\| [^|]* \| `([a-z_]+)[`:]", table, re.M))
    intake_only = {"unknown_leader"}  # answered to the producer; no intent exists
    assert codes - intake_only <= set(PLAIN), sorted(codes - intake_only - set(PLAIN))
    assert len(codes) > 15


def test_a_reason_without_a_figure_is_just_the_words() -> None:
    assert plain("paused") == "your copying is paused"
    assert plain(None) == "no reason recorded"


def test_one_message_per_signal_titled_by_it() -> None:
    msg = render(
        [("executed", {**OPEN, "notional_usd_1e6": 1}), ("rejected", {**OPEN, "reason": "stale"})],
        URL,
    )
    assert msg.title == "copytrade: signal s-1"
    assert msg.body.count("\n") == 1


def p(i: int, signal: int | None) -> Pending:
    return Pending(i, "executed", signal, {}, 0)


def test_a_group_is_the_oldest_and_what_follows_it_about_the_same_signal() -> None:
    assert [x.id for x in group([p(1, 7), p(2, 7), p(3, 8), p(4, 7)])] == [1, 2]
    assert [x.id for x in group([p(1, None), p(2, None)])] == [1]
    assert group([]) == []


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [backoff_s(t, 60) for t in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_s(10_000, 5) == 5


def test_a_transaction_link_naming_anything_but_the_hash_is_refused_when_settings_load() -> None:

    with pytest.raises(ValidationError, match="only \\{tx_hash\\} can be filled in"):
        settings_from({"COPYTRADE_NOTIFY_TX_URL": "https://arbiscan.io/tx/{hash}"})
    ok = settings_from({"COPYTRADE_NOTIFY_TX_URL": "https://arbiscan.io/tx/{tx_hash}"})
    assert ok.notify_tx_url.format(tx_hash=TX).endswith(TX)


def test_the_title_says_which_leader_an_accounts_following_copied() -> None:
    facts = {**OPEN, "leader": "0xAbCdEf0123456789abcdef0123456789abcdef01"}
    assert render([("executed", facts)], URL).title == "copytrade: signal s-1 (copying 0xAbCdEf01…)"


def test_the_loss_guards_trip_tells_the_follower_what_to_expect() -> None:
    why = "max_drawdown: equity 85000 is 15000 USD (1500 bps) under its high of 100000"
    text = render([("loss_guard", {"text": why})], URL).body
    assert text.startswith("Copying stopped: your loss limit was reached (max_drawdown:")
    assert text.endswith("Nothing is copied until the operator resets it")
