"""ModeService.verdict, broadcast_window and Window.guard: LIVE only when every condition
holds, read again under the window and before every chunk, and never past a bound."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest

from core.domain.errors import UnsafeToSend
from core.domain.mode import EMERGENCY_STOP, REQUESTED_MODE
from core.domain.types import Mode
from core.services.mode import ModeService
from tests.service.fakes import (
    PERIOD_S,
    WINDOW_S,
    Clock,
    FakeControls,
    FakeHeartbeats,
    HeartbeatStatus,
    make_mode,
)

# (requested mode value, stop flag value, heartbeat, controls readable) -> (mode, reason)
VERDICTS: dict[str, tuple[str | None, str | None, HeartbeatStatus, bool, Mode, str | None]] = {
    "live-healthy": ("live", "off", "fresh", True, Mode.LIVE, None),
    "requested-dry": ("dry", "off", "fresh", True, Mode.DRY, "requested_dry"),
    "requested-unset": (None, "off", "fresh", True, Mode.DRY, "requested_dry"),
    "requested-unknown-value": ("LIVE!", "off", "fresh", True, Mode.DRY, "requested_dry"),
    "stop-flag-on": ("live", "on", "fresh", True, Mode.DRY, "emergency_stop"),
    "stop-flag-unset-means-stopped": ("live", None, "fresh", True, Mode.DRY, "emergency_stop"),
    "stop-flag-unknown-means-stopped": ("live", "?", "fresh", True, Mode.DRY, "emergency_stop"),
    "stop-before-everything": ("dry", "on", "stale", True, Mode.DRY, "emergency_stop"),
    "heartbeat-never-written": ("live", "off", "missing", True, Mode.DRY, "no_heartbeat"),
    "heartbeat-stale": ("live", "off", "stale", True, Mode.DRY, "heartbeat_stale"),
    "heartbeat-streak-short": ("live", "off", "low_streak", True, Mode.DRY, "streak_below_3"),
    "mode-store-unreadable": ("live", "off", "unreadable", True, Mode.DRY, "mode_store_unreadable"),
    "controls-unreadable": ("live", "off", "fresh", False, Mode.DRY, "controls_unreadable"),
}


@pytest.mark.parametrize(
    ("requested", "stop", "heartbeat", "readable", "mode", "reason"),
    VERDICTS.values(),
    ids=VERDICTS.keys(),
)
def test_verdict(
    requested: str | None,
    stop: str | None,
    heartbeat: HeartbeatStatus,
    readable: bool,
    mode: Mode,
    reason: str | None,
) -> None:
    svc, controls, _ = make_mode(heartbeat=heartbeat)
    controls.values = {
        k: v for k, v in ((REQUESTED_MODE, requested), (EMERGENCY_STOP, stop)) if v is not None
    }
    controls.unreadable = not readable
    v, at = svc.verdict_at()
    assert (v.mode, v.reason, v.live) == (mode, reason, mode is Mode.LIVE)
    assert at == (controls.now if readable else None)  # the database time of the read
    assert svc.effective() is mode
    if mode is Mode.LIVE:
        svc.assert_can_send()
    else:
        with pytest.raises(UnsafeToSend, match=str(reason)):
            svc.assert_can_send()


def test_a_fresh_heartbeat_under_two_periods_is_live() -> None:
    beats = FakeHeartbeats(period_s=PERIOD_S)
    hb = beats.read()
    assert hb is not None
    assert hb.last_beat_us is not None
    beats.NOW_US = hb.last_beat_us + int(2 * PERIOD_S * 1_000_000) - 1  # just under 2 periods
    assert ModeService(FakeControls(), beats, PERIOD_S).verdict().live


def test_broadcast_window_opens_when_live() -> None:
    svc, controls, _ = make_mode()
    with svc.broadcast_window() as window:
        assert controls.open_windows == 1
        assert controls.opened == [window.opened]  # the database time the window opened
        assert window.opened < controls.now  # read under the lock, before the verdict
        assert window.bound_s == WINDOW_S
        assert window.expires_at is None
    assert controls.open_windows == 0
    assert controls.bounds == [WINDOW_S]  # the store ends a session open longer than this


REFUSALS: dict[str, tuple[Mode, bool, HeartbeatStatus, bool, str]] = {
    "stopped": (Mode.LIVE, True, "fresh", True, "emergency_stop"),
    "requested-dry": (Mode.DRY, False, "fresh", True, "requested_dry"),
    "heartbeat-stale": (Mode.LIVE, False, "stale", True, "heartbeat_stale"),
    "controls-unreadable": (Mode.LIVE, False, "fresh", False, "controls_unreadable"),
}


@pytest.mark.parametrize(
    ("requested", "stopped", "heartbeat", "readable", "reason"),
    REFUSALS.values(),
    ids=REFUSALS.keys(),
)
def test_broadcast_window_refuses(
    requested: Mode, stopped: bool, heartbeat: HeartbeatStatus, readable: bool, reason: str
) -> None:
    svc, controls, _ = make_mode(requested, stopped, heartbeat)
    controls.unreadable = not readable
    entered = False
    with pytest.raises(UnsafeToSend, match=reason), svc.broadcast_window():
        entered = True
    assert not entered
    assert controls.open_windows == 0


class StopsUnderTheLock(FakeControls):
    """A stop committed just before this window took the lock: the flag read under the
    lock says stopped, the snapshot the verdict reads again does not (yet)."""

    @contextmanager
    def broadcast_window(self, bound_s: float) -> Iterator[tuple[bool, datetime]]:
        with super().broadcast_window(bound_s) as (_, opened):
            yield True, opened


def test_broadcast_window_honours_the_stop_read_under_the_lock() -> None:
    svc = ModeService(StopsUnderTheLock(), FakeHeartbeats(), PERIOD_S, WINDOW_S)
    assert svc.verdict().live
    with pytest.raises(UnsafeToSend, match="emergency_stop"), svc.broadcast_window():
        pass


Change = Callable[[FakeControls, FakeHeartbeats], None]


def _stop(c: FakeControls, h: FakeHeartbeats) -> None:
    c.stop()


def _request_dry(c: FakeControls, h: FakeHeartbeats) -> None:
    c.values[REQUESTED_MODE] = Mode.DRY.value


def _heartbeat_stale(c: FakeControls, h: FakeHeartbeats) -> None:
    h.status = "stale"


def _controls_down(c: FakeControls, h: FakeHeartbeats) -> None:
    c.unreadable = True


def _nothing(c: FakeControls, h: FakeHeartbeats) -> None:
    pass


# (what changes mid-window, seconds later, the signal's seconds left) -> refusal or None
GUARDS: dict[str, tuple[Change, float, float | None, str | None]] = {
    "healthy": (_nothing, 0.0, None, None),
    "stop-flag-set-mid-window": (_stop, 0.0, None, "emergency_stop"),
    "dry-requested-mid-window": (_request_dry, 0.0, None, "requested_dry"),
    "heartbeat-stale-mid-window": (_heartbeat_stale, 0.0, None, "heartbeat_stale"),
    "controls-unreadable-mid-window": (_controls_down, 0.0, None, "controls_unreadable"),
    "at-the-bound": (_nothing, WINDOW_S, None, None),
    "past-the-bound": (_nothing, WINDOW_S + 0.001, None, "longer than its 15 s bound"),
    "at-expiry": (_nothing, 5.0, 5.0, None),
    "past-expiry": (_nothing, 5.001, 5.0, "past its max age"),
    "no-expiry-no-age-limit": (_nothing, WINDOW_S - 1, None, None),
}


@pytest.mark.parametrize(
    ("change", "later_s", "expires_in", "refusal"), GUARDS.values(), ids=GUARDS.keys()
)
def test_guard(
    clock: Clock, change: Change, later_s: float, expires_in: float | None, refusal: str | None
) -> None:
    svc, controls, beats = make_mode()
    expires_at = None if expires_in is None else clock.monotonic() + expires_in
    with svc.broadcast_window(expires_at) as window:
        change(controls, beats)
        clock.advance(later_s)
        if refusal is None:
            at = window.guard()
            assert at == controls.now  # the database time of the guard's own read
            assert at > window.opened
        else:
            with pytest.raises(UnsafeToSend, match=refusal):
                window.guard()


def test_stop_sets_the_flag_then_waits_for_the_open_windows() -> None:
    svc, controls, _ = make_mode()
    svc.stop("ops", "incident 42")
    assert controls.values[EMERGENCY_STOP] == "on"
    assert controls.audit == [(EMERGENCY_STOP, "on", "ops", "incident 42")]
    assert controls.waits == 1
    assert svc.stopped()
    svc.resume("ops", "fixed")
    assert not svc.stopped()
    assert svc.verdict().live
