"""The heartbeat streak and the effective mode on a private redis-server (killed by PID)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from core.adapters.redis_mode import KEY, RedisModeStore
from core.services import heartbeat
from core.services.mode import ModeService
from tests.support import procs

PERIOD = 0.3


class ModeRig:
    def __init__(self, stack: Any, tmp: Path) -> None:
        self.tmp = tmp
        self.proc, self.url = procs.start_redis(tmp)
        self.port = int(self.url.rsplit(":", 1)[1])
        self.store = RedisModeStore(self.url, PERIOD)
        self.mode = ModeService(stack.services().controls, self.store, PERIOD)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start_heartbeat(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=heartbeat.run,
            args=(RedisModeStore(self.url, PERIOD), PERIOD, self._stop),
            daemon=True,
        )
        self._thread.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def restart_redis(self) -> None:
        self.proc.kill()
        self.proc.restart()
        procs.wait_until(lambda: procs.port_open(self.port), 10, "redis again")

    def first_live(self, timeout: float) -> tuple[float, int]:
        """Seconds until the verdict is LIVE, and the streak it saw then."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            v = self.mode.verdict()
            if v.live:
                return time.monotonic() - start, int(v.streak or 0)
            time.sleep(0.005)
        raise TimeoutError("never LIVE")


@pytest.fixture
def rig(stack: Any, tmp_path: Path) -> Iterator[ModeRig]:
    r = ModeRig(stack, tmp_path)
    yield r
    r.stop_heartbeat()
    r.proc.stop()


def test_reads_never_advance_the_streak(rig: ModeRig) -> None:
    for _ in range(100):
        v = rig.mode.verdict()
        assert not v.live
    assert (v.reason, v.streak) == ("no_heartbeat", 0)
    assert redis.Redis.from_url(rig.url).exists(KEY) == 0


def test_live_only_after_three_consecutive_heartbeat_slots(rig: ModeRig) -> None:
    rig.start_heartbeat()
    elapsed, streak = rig.first_live(timeout=5)
    assert streak >= 3
    assert elapsed >= PERIOD  # three slots span more than one full period after the first


def test_two_beats_in_one_slot_count_once(rig: ModeRig) -> None:
    client = redis.Redis.from_url(rig.url)
    slot_us = int(PERIOD * 1_000_000)
    # Start right after a slot boundary (by the store's clock) so both beats share a slot.
    procs.wait_until(
        lambda: (lambda t: (t[0] * 1_000_000 + t[1]) % slot_us < slot_us // 5)(client.time()),
        5,
        "slot start",
        interval=0.002,
    )
    a, b = rig.store.beat(), rig.store.beat()
    assert a is not None
    assert b is not None
    assert a.now_us // slot_us == b.now_us // slot_us
    assert (a.streak, b.streak) == (1, 1)


def test_a_dead_heartbeat_means_dry_within_two_periods(rig: ModeRig) -> None:
    rig.start_heartbeat()
    rig.first_live(timeout=5)
    rig.stop_heartbeat()
    stopped = time.monotonic()
    procs.wait_until(lambda: not rig.mode.verdict().live, 2 * PERIOD + 0.2, "DRY")
    assert time.monotonic() - stopped <= 2 * PERIOD + 0.2
    assert rig.mode.verdict().reason == "heartbeat_stale"


def test_killed_mode_store_is_dry_at_once_and_live_again_only_after_three_fresh_beats(
    rig: ModeRig,
) -> None:
    rig.start_heartbeat()
    rig.first_live(timeout=5)
    rig.proc.kill()
    t0 = time.monotonic()
    v = rig.mode.verdict()
    assert time.monotonic() - t0 < 1.0  # a dead store answers fast, never blocks a worker
    assert (v.live, v.reason) == (False, "mode_store_unreadable")
    rig.restart_redis()
    elapsed, streak = rig.first_live(timeout=5)
    assert streak >= 3
    assert elapsed >= PERIOD


def test_a_store_restored_with_an_old_streak_is_not_trusted(rig: ModeRig) -> None:
    client = redis.Redis.from_url(rig.url)
    sec, usec = client.time()
    old = (sec - 600) * 1_000_000 + usec
    client.hset(KEY, mapping={"slot": old // int(PERIOD * 1e6), "streak": 99, "beat_us": old})
    v = rig.mode.verdict()
    assert (v.live, v.reason, v.streak) == (False, "heartbeat_stale", 99)
    beat = rig.store.beat()
    assert beat is not None
    assert beat.streak == 1  # the gap restarts the count
