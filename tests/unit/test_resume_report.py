"""`resume`'s one line (pure): thousands as 3,700, in-flight intents named, a partial
re-enqueue and an unreachable broker said in words."""

from __future__ import annotations

from core.domain.backlog import Backlog
from core.services.resuming import ResumeReport


def test_a_big_backlog_reads_with_thousands_separators_and_names_what_is_in_flight() -> None:
    backlog = Backlog({"pending": 3_500, "created": 200, "sent": 40, "held": 2}, 12)
    report = ResumeReport(1, 1, backlog, {"watch": 0, "execution": 1_204, "intake": 0})
    assert report.line() == (
        "resumed; re-enqueued 1 waiting signal; 3,700 intents of 12 signals still to send "
        "(3,500 pending, 200 created); 42 intents in flight (2 held, 40 sent); "
        "broker queues: execution 1,204, intake 0, watch 0 messages"
    )
    assert report.as_dict()["to_send"] == {
        "intents": 3_700,
        "signals": 12,
        "by_state": {"pending": 3_500, "created": 200},
    }


def test_nothing_held_and_an_unreachable_broker_are_said_not_hidden() -> None:
    report = ResumeReport(0, 0, Backlog(), "unknown: broker: OperationalError: refused")
    assert report.line() == (
        "resumed; no waiting signal to re-enqueue; no intent left to send; "
        "broker unreachable: broker: OperationalError: refused"
    )


def test_signals_the_broker_refused_are_left_to_the_reconciler() -> None:
    report = ResumeReport(3, 1, Backlog({"signed": 3}, 3), {"execution": 1})
    assert report.line().startswith(
        "resumed; re-enqueued 1 of 3 waiting signals (the broker refused: the reconciler "
        "re-enqueues them once the broker is back); 3 intents of 3 signals still to send "
        "(3 signed)"
    )
