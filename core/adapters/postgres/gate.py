"""The sequence gate, written once. A follower's intent is sized only when the follower's
earlier intents are past `send` (on a two-phase venue: past their outcome,
INTENT_BEFORE_OUTCOME), and no earlier signal of the leader is still unexpanded.
Sizing (signals.py) asks it for one signal; the reconciler (stalled.py) asks it for every
intent at once (`queued`: waiting its turn, not stopped short)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_

from core.adapters.postgres.tables import intents, signals
from core.domain.states import INTENT_BEFORE_OUTCOME, INTENT_BEFORE_SEND, SignalState

OPEN_SIGNAL = (SignalState.RECEIVED.value, SignalState.ACCEPTED.value)  # not yet expanded
BEFORE_SEND = tuple(sorted(s.value for s in INTENT_BEFORE_SEND))
BEFORE_OUTCOME = tuple(sorted(s.value for s in INTENT_BEFORE_OUTCOME))


def gate_states(two_phase: bool) -> tuple[str, ...]:
    """The states of an earlier intent that hold a follower's next one back."""
    return BEFORE_OUTCOME if two_phase else BEFORE_SEND


def earlier_signal_open(earlier: Any, leader_id: Any, signal_pk: Any) -> ColumnElement[bool]:
    """`earlier` (the signals table or an alias) is an earlier signal of the same leader,
    not yet expanded: it goes first."""
    return and_(
        earlier.c.leader_id == leader_id,
        earlier.c.id < signal_pk,
        earlier.c.state.in_(OPEN_SIGNAL),
    )


def earlier_intent_unsent(
    earlier: Any, seq: Any, follower_id: Any = None, holding: tuple[str, ...] = BEFORE_SEND
) -> ColumnElement[bool]:
    """`earlier` (the intents table or an alias) is an earlier intent (in sequence) not yet
    past send (in one of the `holding` states) — of the follower `follower_id` when given
    (else the caller restricts it)."""
    cond = and_(earlier.c.seq < seq, earlier.c.state.in_(holding))
    return cond if follower_id is None else and_(earlier.c.follower_id == follower_id, cond)


_earlier = intents.alias("earlier")
_earlier_signal = signals.alias("earlier_signal")
_own_signal = signals.alias("own_signal")


def queued(holding: tuple[str, ...] = BEFORE_SEND) -> ColumnElement[bool]:
    """An intent (of `intents`) waiting its turn behind the gate."""
    return or_(
        exists().where(
            earlier_intent_unsent(_earlier, intents.c.seq, intents.c.follower_id, holding)
        ),
        exists().where(
            _own_signal.c.id == intents.c.signal_pk,
            earlier_signal_open(_earlier_signal, _own_signal.c.leader_id, _own_signal.c.id),
        ),
    )
