"""~500 hypothesis-generated payloads through `copytrade.submit_signal` on the real broker
and prefork workers: valid ones accepted, each broken one rejected with its reason, no
worker crash, and the workers still serve the next valid signal."""

from __future__ import annotations

from typing import Any

from celery.result import AsyncResult, ResultSet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.flow import Flow
from tests.support.payloads import broken, valid

SENT: list[tuple[str, str, str]] = []  # (task id, signal id or "", expected status:reason)


def _status(answer: dict[str, Any]) -> str:
    return answer["status"] + (f":{answer['reason']}" if answer["status"] == "rejected" else "")


def _send(flow: Flow, payload: Any, expected: str) -> None:
    task_id = flow.s.intake.dispatcher.app.send_task("copytrade.submit_signal", args=[payload]).id
    sid = payload.get("signal_id", "") if isinstance(payload, dict) else ""
    SENT.append((task_id, sid if isinstance(sid, str) else "", expected))


def test_500_generated_payloads_through_the_task(flow: Flow) -> None:
    leaders = [flow.leader() for _ in range(3)]
    SENT.clear()

    @settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def send_one(data: st.DataObject) -> None:
        if data.draw(st.booleans()):
            p = data.draw(valid(leaders))
            p["signal_id"] = f"fz-{len(SENT)}-{p['signal_id']}"[:120]  # unique per example
            _send(flow, p, "accepted")
        else:
            payload, reason = data.draw(broken())
            _send(flow, payload, f"rejected:{reason}")

    send_one()
    assert len(SENT) >= 400
    expected = {t: e for t, _, e in SENT}

    app = flow.s.intake.dispatcher.app
    # Every answer from the result backend, as a producer's `.get()` receives it.
    answers = ResultSet([AsyncResult(t, app=app) for t, _, _ in SENT], app=app)
    got = {t: _status(a) for (t, _, _), a in zip(SENT, answers.join(timeout=120), strict=True)}
    assert got == expected
    # Nothing half-written: exactly the accepted ones have rows.
    accepted = [sid for t, sid, e in SENT if e == "accepted"]
    rejected = [sid for t, sid, e in SENT if e != "accepted" and sid]
    states = {flow.q.signal(sid)["state"] for sid in accepted}  # every one has its row
    assert states <= {"accepted", "dispatched", "done", "rejected"}  # rejected: stale issued_at
    for sid in rejected:
        try:
            flow.q.signal(sid)
        except Exception:  # noqa: BLE001 - NotFound: nothing was written
            continue
        raise AssertionError(f"rejected payload {sid!r} left a row")
    # No worker process died, and they still serve the next valid signal.
    assert all(w.alive() for w in flow.workers)
    for w in flow.workers:
        assert "WorkerLostError" not in w.text()
    p = flow.payload(leaders[0])
    _send(flow, p, "accepted")
    assert _status(AsyncResult(SENT[-1][0], app=app).get(timeout=30)) == "accepted"
