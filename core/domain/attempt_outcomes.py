"""What became of each attempt of an intent: one outcome, decided from the attempt's facts
(`intent show`, its table and --json). Pure.

The `attempts.outcome` column is a label written at broadcast and receipt time; it cannot
tell a replacement that was written ahead and never broadcast from one a node held, so the
answer is derived here from the facts each row keeps instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.domain.states import IntentState

MINED = "mined"
PENDING = "pending"
REPLACED = "replaced"
NEVER_SENT = "never sent"
WAITING = "waiting to send"
REFUSED = "refused"

# An intent in one of these has a receipt in a canonical block: the intent's tx_hash is the
# mined attempt's (the order's, or the no-op's for `cancelled`). An intent back in `sent`
# after a reorg has none.
RECEIPT_STATES = frozenset(
    {
        IntentState.MINED,
        IntentState.EXECUTED,
        IntentState.FROZEN,
        IntentState.VENUE_CANCELLED,
        IntentState.CANCELLED,
        IntentState.CONFIRMED,
        IntentState.REVERTED,
    }
)


@dataclass(frozen=True)
class AttemptFacts:
    broadcast: bool  # a node accepted it at least once (broadcast_at set)
    error: str | None  # the node's last refusal of it
    superseded: bool  # a later attempt of the same intent exists
    mined: bool  # its hash is the one in the intent's receipt


def attempt_outcome(f: AttemptFacts) -> str:
    """`mined`; broadcast: `pending` (the newest) or `replaced` (a later attempt exists);
    never broadcast: `refused: <error>` (the node refused it), `never sent` (written ahead,
    superseded before it went out) or `waiting to send` (written ahead, the newest)."""
    if f.mined:
        return MINED
    if f.broadcast:
        return REPLACED if f.superseded else PENDING
    if f.error:
        return f"{REFUSED}: {f.error}"
    return NEVER_SENT if f.superseded else WAITING


def attempt_outcomes(
    state: IntentState,
    intent_tx_hash: str | None,
    attempts: Sequence[tuple[str, bool, str | None]],
) -> list[str]:
    """The outcome of each of an intent's attempts ((tx_hash, broadcast, error), in attempt
    order), given the intent's state and tx_hash."""
    has_receipt = state in RECEIPT_STATES
    last = len(attempts) - 1
    return [
        attempt_outcome(
            AttemptFacts(broadcast, error, i < last, has_receipt and h == intent_tx_hash)
        )
        for i, (h, broadcast, error) in enumerate(attempts)
    ]
