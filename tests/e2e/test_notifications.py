"""Followers hear what happened, through the outbox and apprise's real JSON target to a
local HTTP receiver, on real workers: one message per event per destination (a second
drain while one is in flight, a worker SIGKILLed before the send), the after-send window
(SIGKILLed after the destination took it: sent again, the one duplicate), order per
follower, a destination down for 30 s losing nothing, HTTP 429 tried again later, 403
recorded for good and shown by `status`."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from core.demo.receiver import Receiver
from core.services.status import notifications as status_notifications
from tests.support import procs
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.pauses import Pause
from tests.support.stacks import WorkerSet, live_worker_set

TX_URL = "https://explorer.example/tx/{tx_hash}"
HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass
class Rig:
    flow: Flow
    receiver: Receiver
    ws: WorkerSet


@pytest.fixture(scope="module")
def rig(stack: Any) -> Iterator[Rig]:
    receiver = Receiver()
    receiver.up()
    try:
        with (
            fresh_database("ct_notify") as url,
            live_worker_set(
                stack,
                "notify",
                26,
                url,
                COPYTRADE_NOTIFY_BACKOFF_MAX_S="2",
                COPYTRADE_NOTIFY_TX_URL=TX_URL,
            ) as ws,
        ):
            yield Rig(Flow(stack, ws.workers, services=ws.services), receiver, ws)
    finally:
        receiver.down()


def follower(
    rig: Rig, leader: str, path: str, receiver: Receiver | None = None, **policy: Any
) -> int:
    fid, _ = rig.flow.follower(leader, **policy)
    url = (receiver or rig.receiver).url(path)
    rig.flow.s.registry.set_notify_url(fid, url, "json://…", "pytest", None)
    return fid


def signal_done(rig: Rig, leader: str, **payload: Any) -> dict[int, dict[str, Any]]:
    body = rig.flow.payload(leader, **payload)
    rig.flow.submit(body)
    rig.flow.wait_done(body["signal_id"])
    return rig.flow.intents(body["signal_id"])


def delivered(receiver: Receiver, path: str, n: int, timeout: float = 30) -> list[str]:
    procs.wait_until(
        lambda: len(receiver.messages(path)) >= n, timeout, f"{n} message(s) at {path}"
    )
    return receiver.messages(path)


def rows(rig: Rig, fid: int) -> list[dict[str, Any]]:
    return rig.flow.s.notifications.listing(None, fid, 100)


def settled(rig: Rig, fid: int, state: str, timeout: float = 30) -> list[dict[str, Any]]:
    procs.wait_until(
        lambda: rows(rig, fid) and all(r["state"] == state for r in rows(rig, fid)),
        timeout,
        f"follower {fid}'s notifications {state}",
    )
    return rows(rig, fid)


def test_each_follower_hears_its_own_outcome_once(rig: Rig) -> None:
    leader = rig.flow.leader()
    copier = follower(rig, leader, "copier")
    capped = follower(rig, leader, "capped", max_position_usd_1e6=1)
    got = signal_done(rig, leader, collateral_usd="3", leverage=2)
    assert got[copier]["state"] == "confirmed"
    assert got[capped]["state"] == "rejected"

    (executed,) = delivered(rig.receiver, "copier", 1)
    (rejected,) = delivered(rig.receiver, "capped", 1)
    assert executed.startswith("Copied: open BTC long, 6 USD")
    assert TX_URL.format(tx_hash=got[copier]["tx_hash"]) in executed
    assert rejected.startswith("Not copied: open BTC long — it would take your position over")
    reg = rig.flow.s.registry
    for text, other in ((executed, capped), (rejected, copier)):
        assert reg.follower(other).address not in text  # nobody else's data
        assert not HEX64.search(text.replace(got[copier]["tx_hash"][2:], ""))  # no key
    settled(rig, copier, "sent")
    time.sleep(3)  # more drain rounds: nothing is sent again
    assert len(rig.receiver.messages("copier")) == 1
    assert len(rig.receiver.messages("capped")) == 1


def test_a_follower_hears_in_the_order_things_happened(rig: Rig) -> None:
    leader = rig.flow.leader()
    fid = follower(rig, leader, "ordered")
    for action in ("open", "close", "open"):
        signal_done(rig, leader, action=action, collateral_usd="3", leverage=2)
    got = delivered(rig.receiver, "ordered", 3)
    assert [m.split(",")[0] for m in got] == [
        "Copied: open BTC long",
        "Copied: close BTC long",
        "Copied: open BTC long",
    ]
    assert len(settled(rig, fid, "sent")) == 3


def test_a_destination_down_for_30_s_loses_nothing(rig: Rig) -> None:
    away = Receiver()  # not listening yet: every try is refused
    leader = rig.flow.leader()
    fid = follower(rig, leader, "away", receiver=away)
    signal_done(rig, leader, collateral_usd="3", leverage=2)
    time.sleep(30)
    (row,) = rows(rig, fid)
    assert row["state"] == "pending", row
    assert row["tries"] >= 5, row  # tried all along, backing off (2 s at most here)
    away.up()
    try:
        assert len(delivered(away, "away", 1)) == 1
        settled(rig, fid, "sent")
        time.sleep(3)
        assert len(away.messages("away")) == 1
    finally:
        away.down()


def test_429_is_tried_again_later_and_403_is_recorded_for_good(rig: Rig) -> None:
    rig.receiver.answer("busy", 429)
    rig.receiver.answer("gone", 403)
    leader = rig.flow.leader()
    busy = follower(rig, leader, "busy")
    gone = follower(rig, leader, "gone")
    signal_done(rig, leader, collateral_usd="3", leverage=2)
    assert len(delivered(rig.receiver, "busy", 1)) == 1
    assert rig.receiver.asked["busy"] == 2  # refused once, then taken
    (failed,) = settled(rig, gone, "failed")
    assert failed["last_error"] == "HTTP 403"
    time.sleep(4)
    assert rig.receiver.asked["gone"] == 1  # never tried again
    status = status_notifications(rig.flow.s)
    assert status["failed"] >= 1
    assert any(f"follower:{gone}" in line and "HTTP 403" in line for line in status["failures"])
    (done,) = settled(rig, busy, "sent")
    assert done["tries"] == 1


def crash_at(rig: Rig, point: str, path: str) -> None:
    """A signal for a new follower; the drain SIGKILLed at `point` with its message."""
    crash = Pause(rig.flow.stack.dir / "pause", point)
    crash.arm()
    try:
        leader = rig.flow.leader()
        follower(rig, leader, path)
        signal_done(rig, leader, collateral_usd="3", leverage=2)
        pid = crash.wait_reached(timeout=60)
        # A second drain meanwhile (a redelivery, another worker's round) finds the first
        # holding the lock and sends nothing.
        rig.flow.run_task("copytrade.notify")
        os.kill(pid, signal.SIGKILL)
    finally:
        crash.clear()


def test_a_drain_killed_before_the_send_sends_once_later(rig: Rig) -> None:
    crash_at(rig, "notify.before_send", "before")
    assert rig.receiver.asked["before"] == 0  # the kill came before the send
    assert len(delivered(rig.receiver, "before", 1)) == 1
    time.sleep(3)
    assert len(rig.receiver.messages("before")) == 1


def test_a_drain_killed_after_the_send_sends_it_again_the_one_duplicate(rig: Rig) -> None:
    crash_at(rig, "notify.after_send", "after")
    assert len(rig.receiver.messages("after")) == 1  # the destination took it ...
    got = delivered(rig.receiver, "after", 2)  # ... and, unrecorded, it goes again
    assert got[0] == got[1]
    time.sleep(3)
    assert len(rig.receiver.messages("after")) == 2
