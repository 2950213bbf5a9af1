"""The sequence gate, written once. A follower's intent is sized only when the follower's
earlier intents are past `send`, and no earlier signal of the leader is still unexpanded.
Sizing (signals.py) asks it for one signal; the reconciler (stalled.py) asks it for every
intent at once (QUEUED: waiting its turn, not stopped short)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_

from core.adapters.postgres.tables import intents, signals
from core.domain.states import INTENT_BEFORE_SEND, SignalState

OPEN_SIGNAL = (SignalState.RECEIVED.value, SignalState.ACCEPTED.value)  # not yet expanded
BEFORE_SEND = tuple(s.value for s in INTENT_BEFORE_SEND)


def earlier_signal_open(earlier: Any, leader_id: Any, signal_pk: Any) -> ColumnElement[bool]:
    """`earlier` (the signals table or an alias) is an earlier signal of the same leader,
    not yet expanded: it goes first."""
    return and_(
        earlier.c.leader_id == leader_id,
        earlier.c.id < signal_pk,
        earlier.c.state.in_(OPEN_SIGNAL),
    )


def earlier_intent_unsent(earlier: Any, seq: Any, follower_id: Any = None) -> ColumnElement[bool]:
    """`earlier` (the intents table or an alias) is an earlier intent (in sequence) not yet
    past send — of the follower `follower_id` when given (else the caller restricts it)."""
    cond = and_(earlier.c.seq < seq, earlier.c.state.in_(BEFORE_SEND))
    return cond if follower_id is None else and_(earlier.c.follower_id == follower_id, cond)


_earlier = intents.alias("earlier")
_earlier_signal = signals.alias("earlier_signal")
_own_signal = signals.alias("own_signal")
# An intent (of `intents`) waiting its turn behind the gate.
QUEUED = or_(
    exists().where(earlier_intent_unsent(_earlier, intents.c.seq, intents.c.follower_id)),
    exists().where(
        _own_signal.c.id == intents.c.signal_pk,
        earlier_signal_open(_earlier_signal, _own_signal.c.leader_id, _own_signal.c.id),
    ),
)
