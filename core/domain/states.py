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
    EXECUTED = "executed"
    FROZEN = "frozen"
    VENUE_CANCELLED = "venue_cancelled"
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


INTENT_MEANING: dict[IntentState, str] = {
    IntentState.PENDING: "waiting for the follower's sequence gate and sizing",
    IntentState.CREATED: "sized and risk-checked, no nonce",
    IntentState.SIGNED: "nonce assigned, raw bytes and hash written ahead",
    IntentState.SENT: "accepted by the node at least once",
    IntentState.HELD: (
        "the next replacement would pass the fee ceiling; the last attempt stays in the pool"
    ),
    IntentState.CANCELLING: "a 0-value self-send at the same nonce is in flight",
    IntentState.MINED: (
        "receipt in a canonical block (on a two-phase venue: the request, waiting for the "
        "keeper's outcome)"
    ),
    IntentState.EXECUTED: (
        "two-phase venue: a keeper filled the request (fill price and size recorded); "
        "confirmed once the fill is N blocks deep"
    ),
    IntentState.FROZEN: "two-phase venue: the venue froze the order (limit orders only)",
    IntentState.VENUE_CANCELLED: (
        "two-phase venue: the venue cancelled the request — its keeper, or copytrade's "
        "own cancel (an intent of action `cancel`) once the venue's expiry passed; its "
        "reason recorded; collateral and fee refunded by the venue; N blocks deep"
    ),
    IntentState.CANCELLED: "the no-op has N confirmations",
    IntentState.CONFIRMED: (
        "mined with status 1 and N confirmations (two-phase: executed, the fill N blocks deep)"
    ),
    IntentState.REVERTED: "mined with status 0 and N confirmations",
    IntentState.REJECTED: "refused by a rule (reason recorded); never signed",
    IntentState.DRY_RUN: "simulated in requested DRY; calldata recorded, nothing signed",
    IntentState.FAILED: "gave up before a nonce was assigned (reason recorded)",
}

INTENT_TRANSITIONS: dict[IntentState, frozenset[IntentState]] = {
    IntentState.PENDING: frozenset({IntentState.CREATED, IntentState.REJECTED, IntentState.FAILED}),
    IntentState.CREATED: frozenset(
        {IntentState.REJECTED, IntentState.DRY_RUN, IntentState.SIGNED, IntentState.FAILED}
    ),
    # signed -> signed: re-signed at a new nonce after ours was proven used outside.
    IntentState.SIGNED: frozenset({IntentState.SENT, IntentState.CANCELLING, IntentState.SIGNED}),
    IntentState.SENT: frozenset(
        {IntentState.MINED, IntentState.HELD, IntentState.CANCELLING, IntentState.SIGNED}
    ),
    IntentState.HELD: frozenset({IntentState.MINED, IntentState.SENT, IntentState.CANCELLING}),
    IntentState.CANCELLING: frozenset({IntentState.CANCELLED, IntentState.MINED}),
    # mined -> sent: the receipt left the chain; on a two-phase venue mined waits for the
    # keeper: executed, frozen or cancelled by the venue.
    IntentState.MINED: frozenset(
        {
            IntentState.CONFIRMED,
            IntentState.REVERTED,
            IntentState.SENT,
            IntentState.EXECUTED,
            IntentState.FROZEN,
            IntentState.VENUE_CANCELLED,
        }
    ),
    # executed -> mined: the fill's block left the canonical chain (the request waits again);
    # executed -> executed: the same fill re-included in another block.
    IntentState.EXECUTED: frozenset(
        {IntentState.CONFIRMED, IntentState.MINED, IntentState.EXECUTED}
    ),
    IntentState.FROZEN: frozenset(
        {IntentState.EXECUTED, IntentState.VENUE_CANCELLED, IntentState.MINED}
    ),
    IntentState.VENUE_CANCELLED: frozenset(),
    IntentState.CANCELLED: frozenset(),
    IntentState.CONFIRMED: frozenset(),
    IntentState.REVERTED: frozenset(),
    IntentState.REJECTED: frozenset(),
    IntentState.DRY_RUN: frozenset(),
    IntentState.FAILED: frozenset(),
}

SIGNAL_MEANING: dict[SignalState, str] = {
    SignalState.RECEIVED: "payload parsed, not yet checked against leaders",
    SignalState.ACCEPTED: "row committed; the producer was answered `accepted`",
    SignalState.DISPATCHED: "intents created for every follower of the leader",
    SignalState.DONE: "every intent is terminal",
    SignalState.REJECTED: "refused (reason recorded), e.g. stale or unknown leader",
    SignalState.REVOKED: "its leader transaction was reorged out",
    SignalState.IGNORED: "a leader call that is not an order",
}

SIGNAL_TRANSITIONS: dict[SignalState, frozenset[SignalState]] = {
    SignalState.RECEIVED: frozenset(
        {SignalState.ACCEPTED, SignalState.REJECTED, SignalState.IGNORED}
    ),
    SignalState.ACCEPTED: frozenset(
        {SignalState.DISPATCHED, SignalState.REJECTED, SignalState.REVOKED}
    ),
    SignalState.DISPATCHED: frozenset({SignalState.DONE, SignalState.REVOKED}),
    SignalState.DONE: frozenset({SignalState.REVOKED}),
    SignalState.REJECTED: frozenset(),
    SignalState.REVOKED: frozenset(),
    SignalState.IGNORED: frozenset(),
}

INTENT_TERMINAL = frozenset(s for s, nxt in INTENT_TRANSITIONS.items() if not nxt)
SIGNAL_TERMINAL = frozenset(
    {SignalState.DONE, SignalState.REJECTED, SignalState.REVOKED, SignalState.IGNORED}
)
# An intent in one of these has not yet passed `send`: a later intent of the same
# follower waits behind it (the sequence gate).
INTENT_BEFORE_SEND = frozenset({IntentState.PENDING, IntentState.CREATED, IntentState.SIGNED})
# On a two-phase venue (GMX) a follower's next intent waits until the earlier ones are past
# their outcome — executed, or ended — not only past send: a close is sized from the
# position the earlier fills made, and the venue need not fill requests in order.
INTENT_BEFORE_OUTCOME = INTENT_BEFORE_SEND | frozenset(
    {
        IntentState.SENT,
        IntentState.HELD,
        IntentState.CANCELLING,
        IntentState.MINED,
        IntentState.FROZEN,
    }
)
# Intents whose order may still reach (or has reached) the venue: they count as exposure.
INTENT_NOT_COUNTED = frozenset(
    {
        IntentState.PENDING,
        IntentState.REJECTED,
        IntentState.FAILED,
        IntentState.CANCELLED,
        IntentState.REVERTED,
        IntentState.VENUE_CANCELLED,
    }
)


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
