"""Intake: validate a producer's signal, commit its row, then enqueue its chain.

The answer is `accepted` as soon as the row is committed: with the broker down the
signal is still accepted and the reconciler dispatches it later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from core import metrics
from core.domain.errors import RejectedSignal
from core.domain.signals import SIGNAL_ID_RE, parse_signal
from core.ports import Dispatcher, IntakeStore, LeaderLookup

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeAnswer:
    """status: accepted | duplicate | conflict | rejected."""

    status: str
    signal_id: str | None = None
    signal_pk: int | None = None
    reason: str | None = None
    detail: str | None = None
    dispatched: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class Intake:
    def __init__(
        self,
        registry: LeaderLookup,
        store: IntakeStore,
        dispatcher: Dispatcher,
        max_future_skew_s: int = 5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.store = store
        self.dispatcher = dispatcher
        self.max_future_skew_s = max_future_skew_s
        self.clock = clock

    def submit(self, payload: object, source: str = "api") -> IntakeAnswer:
        answer = self._submit(payload, source)
        rejected = answer.status == "rejected"
        metrics.signal_answered(answer.status, answer.reason if rejected else None)
        return answer

    def _submit(self, payload: object, source: str) -> IntakeAnswer:
        try:
            spec = parse_signal(payload)
        except RejectedSignal as exc:
            sid = payload.get("signal_id") if isinstance(payload, dict) else None
            return IntakeAnswer(
                "rejected",
                # Echoed only when well-formed: never junk (a newline, 10 MB) into logs.
                sid if isinstance(sid, str) and SIGNAL_ID_RE.match(sid) else None,
                reason=exc.reason,
                detail=exc.detail,
            )
        if spec.issued_at is not None and spec.issued_at > self.clock() + self.max_future_skew_s:
            # A future issued_at would make the signal's age negative and switch every
            # staleness check off for it.
            return IntakeAnswer(
                "rejected",
                spec.signal_id,
                reason="future_issued_at",
                detail=f"issued_at is more than {self.max_future_skew_s} s in the future",
            )
        leader_id = self.registry.leader_id(spec.leader)
        if leader_id is None:
            return IntakeAnswer(
                "rejected", spec.signal_id, reason="unknown_leader", detail=spec.leader
            )
        status, pk = self.store.insert_signal(spec, leader_id, source)
        if status != "accepted":
            return IntakeAnswer(
                status,
                spec.signal_id,
                pk,
                reason="content differs" if status == "conflict" else None,
            )
        dispatched = self.dispatcher.dispatch(pk)
        if not dispatched:
            log.warning("signal %s accepted; broker unavailable, dispatch deferred", spec.signal_id)
        return IntakeAnswer("accepted", spec.signal_id, pk, dispatched=dispatched)
