"""Signal and intent state machines as data (in the manner of celery's states.py).

The store applies a transition with a compare-and-set
(``UPDATE … WHERE id = :id AND state = :expected``); `check` guards every write, so an
illegal transition raises before any SQL runs. docs/states.md is rendered from these tables.
"""

from __future__ import annotations

import re
from enum import StrEnum

from core.domain.errors import IllegalTransition


class IntentState(StrEnum):
    PENDING = "pending"
    CREATED = "created"
    SIGNED = "signed"
    SENT = "sent"
    HELD = "held"
    CANCELLING = "cancelling"
    MINED = "mined"
    CANCELLED = "cancelled"
    CONFIRMED = "confirmed"
    REVERTED = "reverted"
    REJECTED = "rejected"
    DRY_RUN = "dry_run"
    FAILED = "failed"


class SignalState(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    DONE = "done"
    REJECTED = "rejected"
    REVOKED = "revoked"
    IGNORED = "ignored"


I = IntentState
INTENT_MEANING: dict[IntentState, str] = {
    I.PENDING: "waiting for the follower's sequence gate and sizing",
    I.CREATED: "sized and risk-checked, no nonce",
    I.SIGNED: "nonce assigned, raw bytes and hash written ahead",
    I.SENT: "accepted by the node at least once",
    I.HELD: "the next replacement would pass the fee ceiling; the last attempt stays in the pool",
    I.CANCELLING: "a 0-value self-send at the same nonce is in flight",
    I.MINED: "receipt in a canonical block",
    I.CANCELLED: "the no-op has N confirmations",
    I.CONFIRMED: "mined with status 1 and N confirmations",
    I.REVERTED: "mined with status 0 and N confirmations",
    I.REJECTED: "refused by a rule (reason recorded); never signed",
    I.DRY_RUN: "simulated in requested DRY; calldata recorded, nothing signed",
    I.FAILED: "gave up before a nonce was assigned (reason recorded)",
}

INTENT_TRANSITIONS: dict[IntentState, frozenset[IntentState]] = {
    I.PENDING: frozenset({I.CREATED, I.REJECTED, I.FAILED}),
    I.CREATED: frozenset({I.REJECTED, I.DRY_RUN, I.SIGNED, I.FAILED}),
    # signed -> signed: re-signed at a new nonce after ours was proven used outside.
    I.SIGNED: frozenset({I.SENT, I.CANCELLING, I.SIGNED}),
    I.SENT: frozenset({I.MINED, I.HELD, I.CANCELLING, I.SIGNED}),
    I.HELD: frozenset({I.MINED, I.SENT, I.CANCELLING}),
    I.CANCELLING: frozenset({I.CANCELLED, I.MINED}),
    I.MINED: frozenset({I.CONFIRMED, I.REVERTED, I.SENT}),
    I.CANCELLED: frozenset(),
    I.CONFIRMED: frozenset(),
    I.REVERTED: frozenset(),
    I.REJECTED: frozenset(),
    I.DRY_RUN: frozenset(),
    I.FAILED: frozenset(),
}

S = SignalState
SIGNAL_MEANING: dict[SignalState, str] = {
    S.RECEIVED: "payload parsed, not yet checked against leaders",
    S.ACCEPTED: "row committed; the producer was answered `accepted`",
    S.DISPATCHED: "intents created for every follower of the leader",
    S.DONE: "every intent is terminal",
    S.REJECTED: "refused (reason recorded), e.g. stale or unknown leader",
    S.REVOKED: "its leader transaction was reorged out",
    S.IGNORED: "a leader call that is not an order",
}

SIGNAL_TRANSITIONS: dict[SignalState, frozenset[SignalState]] = {
    S.RECEIVED: frozenset({S.ACCEPTED, S.REJECTED, S.IGNORED}),
    S.ACCEPTED: frozenset({S.DISPATCHED, S.REJECTED, S.REVOKED}),
    S.DISPATCHED: frozenset({S.DONE, S.REVOKED}),
    S.DONE: frozenset({S.REVOKED}),
    S.REJECTED: frozenset(),
    S.REVOKED: frozenset(),
    S.IGNORED: frozenset(),
}

INTENT_TERMINAL = frozenset(s for s, nxt in INTENT_TRANSITIONS.items() if not nxt)
SIGNAL_TERMINAL = frozenset({S.DONE, S.REJECTED, S.REVOKED, S.IGNORED})
# An intent in one of these has not yet passed `send`: a later intent of the same
# follower waits behind it (the sequence gate).
INTENT_BEFORE_SEND = frozenset({I.PENDING, I.CREATED, I.SIGNED})
# Intents whose order may still reach (or has reached) the venue: they count as exposure.
INTENT_NOT_COUNTED = frozenset({I.PENDING, I.REJECTED, I.FAILED, I.CANCELLED, I.REVERTED})


def check_intent(current: IntentState, new: IntentState) -> None:
    """Raise IllegalTransition unless current -> new is in the intent table."""
    if new not in INTENT_TRANSITIONS[current]:
        raise IllegalTransition(f"intent {current.value} -> {new.value} is not allowed")


def check_signal(current: SignalState, new: SignalState) -> None:
    """Raise IllegalTransition unless current -> new is in the signal table."""
    if new not in SIGNAL_TRANSITIONS[current]:
        raise IllegalTransition(f"signal {current.value} -> {new.value} is not allowed")


def sources_of(new: IntentState) -> tuple[IntentState, ...]:
    """Every state from which `new` may be reached (for compare-and-set over a set)."""
    return tuple(s for s, nxt in INTENT_TRANSITIONS.items() if new in nxt)


_CODE = re.compile(r"[a-z][a-z0-9_-]{0,39}")


def reason_code(reason: str | None) -> str:
    """The bounded code at the head of a recorded reason, what metrics label by:
    "insufficient_funds: 3 wei < 9 wei of gas" -> "insufficient_funds"; anything that is
    not a short lower-case code -> "other"; no reason -> ""."""
    if not reason:
        return ""
    head = reason.split(":", 1)[0].strip()
    return head if _CODE.fullmatch(head) else "other"


def render_markdown() -> str:
    """docs/states.md, generated from the tables above (tests fail when the file drifts)."""
    lines = [
        "# States",
        "",
        "Generated from `core/domain/states.py`:",
        "`python -m core.domain.states > docs/states.md`.",
        "Every write is a compare-and-set from one of these states to a listed next state;",
        "anything else raises `IllegalTransition`.",
        "",
        "## Intent",
        "",
        "| state | meaning | next |",
        "|---|---|---|",
    ]
    for s, nxt in INTENT_TRANSITIONS.items():
        after = ", ".join(n.value for n in IntentState if n in nxt) or "– (terminal)"
        lines.append(f"| {s.value} | {INTENT_MEANING[s]} | {after} |")
    lines += ["", "## Signal", "", "| state | meaning | next |", "|---|---|---|"]
    for g, gnext in SIGNAL_TRANSITIONS.items():
        after = ", ".join(n.value for n in SignalState if n in gnext) or "– (terminal)"
        lines.append(f"| {g.value} | {SIGNAL_MEANING[g]} | {after} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
