"""The stuck-transaction decision, pure: given an in-flight intent's newest attempt, the
fee market and the head, what the scan does with it this round. Table-tested in
tests/service/test_stuck_decision.py; carried out by core/services/stuck.py."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain import fees as feemath
from core.domain.fees import Fees
from core.domain.rows import Newest
from core.domain.states import IntentState

# What the scan does: leave it (`none`; `signed` belongs to send), cancel it with a no-op
# (`cancel`, with a reason), send its written-ahead bytes again (`rebroadcast`), hold it at
# the fee ceiling (`hold`), replace it at higher fees (`replace`, back to sent from held).
NONE, CANCEL, REBROADCAST, HOLD, REPLACE = "none", "cancel", "rebroadcast", "hold", "replace"


@dataclass(frozen=True)
class Rules:
    fee_ceiling_wei: int
    stuck_after_s: float
    stuck_after_blocks: int
    sent_expiry_s: float
    max_signal_age_s: float


@dataclass(frozen=True)
class Action:
    what: str
    reason: str | None = None  # a cancel's: stale | expired
    fees: Fees | None = None  # a replacement's
    back_to_sent: bool = False  # a replacement of a held intent


def decide(n: Newest, market: Fees, next_base_fee: int, head: int, rules: Rules) -> Action:
    if n.state is IntentState.SIGNED:
        return Action(NONE)  # its first broadcast belongs to `send` (resume, reconciler)
    if n.state in (IntentState.SENT, IntentState.HELD) and n.signal_age_s > rules.max_signal_age_s:
        # Too old to be a copy: no more bumps (nor re-broadcasts of an unaccepted one);
        # the no-op gives the nonce back.
        return Action(CANCEL, "stale")
    if n.state is IntentState.SENT and n.sent_age_s >= rules.sent_expiry_s:
        # Expiry first, counted from the intent's first accepted broadcast: a bump the node
        # refuses for ever (unaffordable in a fee spike) must not keep the no-op from being
        # tried, nor reset the clock each time one is made.
        return Action(CANCEL, "expired")
    if not n.broadcast:
        # A replacement or no-op written ahead but never accepted (a crash, a stop, a
        # refusal): the same bytes again.
        return Action(REBROADCAST)
    stuck = n.state is IntentState.HELD or feemath.is_stuck(
        age_s=n.age_s,
        blocks_since=None if n.broadcast_block is None else head - n.broadcast_block,
        max_fee_per_gas=n.fees.max_fee_per_gas,
        next_base_fee=next_base_fee,
        after_s=rules.stuck_after_s,
        after_blocks=rules.stuck_after_blocks,
    )
    if not stuck:
        return Action(NONE)
    new = feemath.replacement(n.fees, market, rules.fee_ceiling_wei)
    if new is None:
        return Action(HOLD) if n.state is IntentState.SENT else Action(NONE)
    return Action(REPLACE, fees=new, back_to_sent=n.state is IntentState.HELD)
