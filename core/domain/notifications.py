"""What followers and the operator hear, as text: which intent changes are reported, the
reasons in plain words (docs/risk.md's table), and one message per destination and signal.
Pure: the facts come from the outbox row (core/adapters/postgres/outbox.py), written in
the same transaction as the change; the message carries the follower's own facts only,
never an address, a key or another follower's data."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.domain.states import IntentState, reason_code
from core.domain.types import USD

# An intent reaching one of these states is reported to its follower, as this event.
INTENT_EVENTS: dict[IntentState, str] = {
    IntentState.CONFIRMED: "executed",
    IntentState.REJECTED: "rejected",
    IntentState.VENUE_CANCELLED: "venue_cancelled",
    IntentState.HELD: "held",
    IntentState.CANCELLED: "cancelled",
    IntentState.REVERTED: "reverted",
    IntentState.FAILED: "failed",
}

# A reason code in plain words (docs/risk.md); an unknown code is shown as it is.
PLAIN: dict[str, str] = {
    "paused": "your copying is paused",
    "circuit_breaker": "your circuit breaker is on",
    "no_equity": "your equity on the venue could not be read to size it",
    "account_asset_not_allowed": "this asset is not in your account's allowed list",
    "account_max_position": "it would take your account's position in this asset over its limit",
    "account_max_total": "it would take your account's total exposure over its limit",
    "opposite_side": "another leader you copy holds the other side of this asset",
    "no_leader_equity": "the leader's equity is not known to size it",
    "bad_forced_order": "the operator's order was not a close",
    "asset_not_allowed": "this asset is not in your allowed list",
    "profile_asset_not_allowed": "this asset is not traded yet",
    "max_leverage": "the leverage is above your maximum",
    "profile_max_leverage": "the leverage is above what is allowed for now",
    "size_zero": "your share of this trade rounds to nothing",
    "below_venue_minimum": "your share is below the venue's minimum order",
    "profile_max_order_notional": "the order is above what is allowed for now",
    "max_position": "it would take your position over your limit",
    "no_position": "you hold no position to reduce",
    "stale": "the leader's trade was too old to copy by the time it could be sent",
    "no_price": "no price was available to size it",
    "future_issued_at": "the signal's time was in the future",
    "insufficient_funds": "your wallet's ETH cannot pay the gas and fees",
    "insufficient_collateral": "your wallet's USDC does not cover the collateral",
    "no_allowance": "the venue is not approved to take your USDC",
    "subaccount_not_authorized": "your wallet no longer lets this key trade for it",
    "subaccount_expired": "your wallet's permission for this key has expired",
    "subaccount_exhausted": "your wallet's permission for this key has no actions left",
    "subaccount_unsupported": "this venue does not support subaccounts",
    "signer_error": "your key could not be used",
    "signer_mismatch": "your key does not match your registered address",
    "revoked": "the leader's trade was undone by the chain",
    "internal": "an internal error; the operator has been told",
    "poison": "it could not be processed; the operator has been told",
    "operator": "cancelled by the operator",
    "expired": "it waited too long to be mined",
}


def plain(reason: str | None) -> str:
    """A recorded reason in plain words, with its figures: "max_position: 1001 > 1000"
    -> "it would take your position over your limit (1001 > 1000)"."""
    if not reason:
        return "no reason recorded"
    code = reason_code(reason)
    words = PLAIN.get(code)
    if words is None:
        return reason
    detail = reason.split(":", 1)[1].strip() if ":" in reason else ""
    return f"{words} ({detail})" if detail and code != "internal" else words


def usd(value_usd_1e6: int | None) -> str:
    if value_usd_1e6 is None:
        return "?"
    return f"{(Decimal(value_usd_1e6) / USD).normalize():,f} USD"


def _trade(f: Mapping[str, Any]) -> str:
    return f"{f.get('action', '?')} {f.get('asset', '?')} {f.get('side', '?')}"


def line(event: str, f: Mapping[str, Any], tx_url: str) -> str:
    """One event of one intent, in words."""
    trade = _trade(f)
    if event == "executed":
        size = f.get("fill_size_usd_1e6") or f.get("notional_usd_1e6")
        text = f"Copied: {trade}, {usd(size)}"
        if f.get("fill_price_usd_1e6"):
            text += f" at {usd(f['fill_price_usd_1e6'])}"
        if f.get("tx_hash"):
            text += f" — {tx_url.format(tx_hash=f['tx_hash'])}"
        return text
    if event == "rejected":
        return f"Not copied: {trade} — {plain(f.get('reason'))}"
    if event == "venue_cancelled":
        why = f.get("reason") or "no reason given"
        return f"Cancelled by the venue: {trade} — {why}; your collateral is returned"
    if event == "held":
        return (
            f"Waiting: {trade} is held at the fee ceiling; it stays queued until fees "
            "fall or the operator raises the ceiling"
        )
    if event == "cancelled":
        return f"Withdrawn before it executed: {trade} ({plain(f.get('reason'))})"
    if event == "reverted":
        return f"Failed on chain: {trade} — {plain(f.get('reason'))}"
    if event == "failed":
        return f"Not copied: {trade} — {plain(f.get('reason'))}"
    if event == "alert_opened":
        return f"ALERT: {f.get('text', f.get('alert', ''))}"
    if event == "alert_resolved":
        return f"resolved: {f.get('text', f.get('alert', ''))}"
    if event == "subaccount_low":
        return str(f.get("text", "your GMX subaccount needs your wallet's attention"))
    if event == "test":
        return str(f.get("text", "test"))
    if event == "loss_guard":
        return (
            f"Copying stopped: your loss limit was reached ({f.get('text', '')}). "
            "Nothing is copied until the operator resets it"
        )
    if event == "paused":
        return "Copying is paused by the operator; nothing is sent until it resumes"
    if event == "resumed":
        return "Copying has resumed"
    return f"{event}: {f.get('text', '')}".strip()


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def render(events: Sequence[tuple[str, Mapping[str, Any]]], tx_url: str) -> Message:
    """One message for a destination's events of one signal (or one operator alert)."""
    signal_id = next((str(f["signal_id"]) for _, f in events if f.get("signal_id")), None)
    leader = next((str(f["leader"]) for _, f in events if f.get("leader")), None)
    title = f"copytrade: signal {signal_id}" if signal_id else "copytrade"
    if leader:  # an account copies several leaders: which following it was
        title += f" (copying {leader[:10]}…)"
    return Message(title, "\n".join(line(e, f, tx_url) for e, f in events))


# -- delivery --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    """A destination's oldest pending message: what a drain sends next to it."""

    destination: str  # follower:<id> | operator
    id: int
    signal_pk: int | None
    due: bool  # its next try is now (not backing off)
    since_last_s: float | None  # since the destination's last sent message (None: never)


@dataclass(frozen=True)
class Pending:
    id: int
    event: str
    signal_pk: int | None
    facts: Mapping[str, Any]
    tries: int


@dataclass(frozen=True)
class Target:
    """Where a destination's messages go, as stored: the follower's URL (or `telegram`)
    and its Telegram chat; the operator's comes from the settings."""

    destination: str
    notify_url: str | None
    tg_user_id: int | None = None


@dataclass(frozen=True)
class SendResult:
    ok: bool
    permanent: bool = False  # refused for good (403, a bad URL): never tried again
    detail: str = ""  # what went wrong, without the URL (it may hold a token)
    # not sent because our own configuration is missing (a bot token, the operator's URL):
    # kept pending without counting a try, until the setting is there
    waiting: bool = False


PERMANENT_HTTP = frozenset({400, 401, 403, 404, 410})
TELEGRAM = "telegram"


def group(rows: Sequence[Pending]) -> list[Pending]:
    """The messages that go out as one: the oldest, and those right after it about the same
    signal (never past a message about another signal: a follower hears in order)."""
    if not rows:
        return []
    first = rows[0]
    out = [first]
    if first.signal_pk is None:
        return out
    for r in rows[1:]:
        if r.signal_pk != first.signal_pk:
            break
        out.append(r)
    return out


def backoff_s(tries: int, most_s: float) -> int:
    """Whole seconds before try `tries + 1`: 1, 2, 4, … up to `most_s` (rounded up)."""
    return min(math.ceil(most_s), int(2 ** min(tries, 30)))
