"""`resume` on fakes: every held signal re-enqueued from its step; a broker that refuses is
asked once, not once per signal (each refusal costs a publish timeout), and the rest are
left to the reconciler; the queue depths are read after the re-enqueue."""

from __future__ import annotations

from core.domain.backlog import Backlog
from core.domain.errors import TransientError
from core.services.resuming import resume
from tests.service.fakes import FakeDispatcher

HELD = [(1, "check_mode"), (2, "send"), (3, "check_mode")]


class Switch:
    def __init__(self) -> None:
        self.resumed: list[tuple[str, str]] = []

    def resume(self, actor: str, reason: str) -> None:
        self.resumed.append((actor, reason))


class Held:
    def waiting_signals(self) -> list[tuple[int, str]]:
        return list(HELD)


class Counts:
    def backlog(self) -> Backlog:
        return Backlog({"created": 5, "signed": 1}, 3)


class Broker(FakeDispatcher):
    def __init__(self, up: bool = True) -> None:
        super().__init__()
        self.up = up
        self.tries = 0

    def dispatch(self, signal_pk: int, start: str = "validate", countdown: float = 0) -> bool:
        self.tries += 1
        return self.up and super().dispatch(signal_pk, start, countdown)

    def queue_lengths(self) -> dict[str, int]:
        if not self.up:
            raise TransientError("broker: OperationalError: refused")
        return {"execution": len(self.dispatched)}


def test_resume_lifts_the_stop_and_re_enqueues_every_held_signal_from_its_step() -> None:
    switch, broker = Switch(), Broker()
    report = resume(switch, Held(), broker, Counts(), "ops", "drill over")
    assert switch.resumed == [("ops", "drill over")]
    assert broker.dispatched == HELD
    assert (report.waiting, report.re_enqueued, report.queues) == (3, 3, {"execution": 3})


def test_a_refusing_broker_is_asked_once_and_the_stop_is_lifted_anyway() -> None:
    switch, broker = Switch(), Broker(up=False)
    report = resume(switch, Held(), broker, Counts(), "ops", "drill over")
    assert switch.resumed == [("ops", "drill over")]
    assert broker.tries == 1
    assert (report.waiting, report.re_enqueued) == (3, 0)
    assert report.queues == "unknown: broker: OperationalError: refused"
