"""The stuck decision (core/domain/stuck.py), pure: (newest attempt, market, head) ->
what the scan does this round."""

from __future__ import annotations

import pytest

from core.domain import stuck
from core.domain.fees import GWEI, Fees
from core.domain.rows import Newest
from core.domain.states import IntentState
from tests.service.fakes import fees, newest

RULES = stuck.Rules(
    fee_ceiling_wei=100 * GWEI,
    stuck_after_s=30,
    stuck_after_blocks=3,
    sent_expiry_s=600,
    max_signal_age_s=120,
)
MARKET = fees(22, 2)  # what the fee market asks now
BASE = 10 * GWEI  # next block's base fee
HEAD = 100

CASES: dict[str, tuple[Newest, str, str | None]] = {
    "signed: send's": (newest(state=IntentState.SIGNED, broadcast=False), stuck.NONE, None),
    "young: nothing": (newest(), stuck.NONE, None),
    "stale sent: no-op": (newest(signal_age_s=121), stuck.CANCEL, "stale"),
    "stale held: no-op": (newest(state=IntentState.HELD, signal_age_s=121), stuck.CANCEL, "stale"),
    "stale before expiry": (newest(signal_age_s=121, sent_age_s=601), stuck.CANCEL, "stale"),
    "expired: no-op": (newest(sent_age_s=600), stuck.CANCEL, "expired"),
    "expired, never re-accepted": (
        newest(sent_age_s=600, attempt_no=3, broadcast=False),
        stuck.CANCEL,
        "expired",
    ),
    "held is not expired": (newest(state=IntentState.HELD, sent_age_s=900), stuck.REPLACE, None),
    "written ahead, not accepted": (newest(attempt_no=2, broadcast=False), stuck.REBROADCAST, None),
    "old: replace": (newest(age_s=31), stuck.REPLACE, None),
    "blocks behind: replace": (newest(broadcast_block=HEAD - 3), stuck.REPLACE, None),
    "under the base fee: replace": (newest(fee=fees(9, 1)), stuck.REPLACE, None),
    "over the ceiling: hold": (newest(age_s=31, fee=fees(95, 2)), stuck.HOLD, None),
    "held over the ceiling: stays": (
        newest(state=IntentState.HELD, fee=fees(95, 2)),
        stuck.NONE,
        None,
    ),
    "cancelling stuck: bump the no-op": (
        newest(state=IntentState.CANCELLING, kind="cancel", age_s=31),
        stuck.REPLACE,
        None,
    ),
    "cancelling is never stale": (
        newest(state=IntentState.CANCELLING, kind="cancel", signal_age_s=999),
        stuck.NONE,
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_the_decision(case: str) -> None:
    n, what, reason = CASES[case]
    a = stuck.decide(n, MARKET, BASE, HEAD, RULES)
    assert (a.what, a.reason) == (what, reason)


def test_a_replacement_bumps_at_least_one_eighth_and_a_held_one_goes_back_to_sent() -> None:
    a = stuck.decide(newest(age_s=31, fee=fees(50, 2)), MARKET, BASE, HEAD, RULES)
    assert a.fees == Fees(50 * GWEI * 9 // 8, 2 * GWEI * 9 // 8 + (2 * GWEI * 9 % 8 > 0))
    assert not a.back_to_sent
    b = stuck.decide(newest(state=IntentState.HELD, fee=fees(50, 2)), MARKET, BASE, HEAD, RULES)
    assert b.what == stuck.REPLACE
    assert b.back_to_sent
