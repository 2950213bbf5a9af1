"""`copytrade stop` really stops: once it returns no broadcast starts; `resume` sends the
held intents with their original bytes. Each drill runs on the simple router and on the
local GMX venue (a dev keeper filling every request)."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support import procs
from tests.support.flow import Flow
from tests.support.pauses import paused
from tests.support.procs import copytrade_cmd

PERIOD = 0.5


@pytest.fixture
def flow(venue_flow: Flow) -> Flow:
    return venue_flow  # every drill on the simple router and on the GMX venue


@pytest.fixture
def resumed(flow: Flow) -> Iterator[None]:
    yield
    flow.s.mode.resume("pytest", "test cleanup")  # the flag is its database's


def cli(flow: Flow, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        copytrade_cmd(*args), env=flow.env, capture_output=True, text=True, timeout=60
    )


def test_stop_between_check_mode_and_send_blocks_the_broadcast_until_resume(
    flow: Flow, resumed: None
) -> None:
    leader = flow.leader()
    fid, address = flow.follower(leader)
    nonce0 = flow.s.chain.nonce(address, "pending")  # on gmx: its USDC mint and approval
    p = flow.payload(leader, collateral_usd="10", leverage=1)
    with paused(flow.stack.dir / "pause", "send.before_window") as point:
        flow.submit(p)
        point.wait_reached()
        (signed,) = flow.q.intents(signal_id=p["signal_id"])
        assert signed["state"] == "signed"  # in flight: nonce and bytes written ahead
        t0 = time.monotonic()
        flow.s.mode.stop("pytest", "drill")
        assert time.monotonic() - t0 < 1.0
    time.sleep(4 * PERIOD)  # the worker retried every period meanwhile
    (held,) = flow.q.intents(signal_id=p["signal_id"])
    assert held["state"] == "signed"
    assert [a["broadcast_at"] for a in flow.q.intent(held["id"])["attempts"]] == [None]
    assert flow.s.chain.nonce(address, "pending") == nonce0  # nothing reached the node
    assert flow.s.mode.verdict().reason == "emergency_stop"
    out = cli(flow, "resume", "--reason", "drill over")
    assert out.returncode == 0, out.stderr
    assert "re-enqueued" in out.stdout
    flow.wait_done(p["signal_id"])
    (done,) = flow.q.intents(signal_id=p["signal_id"])
    assert (done["state"], done["tx_hash"]) == ("confirmed", signed["tx_hash"])
    assert flow.position(address).size_usd_1e6 == 10 * 10**6
    audit = [a["action"] for a in flow.s.audit_queries.audit(limit=5)]
    assert "control.emergency_stop" in audit
    assert fid == done["follower_id"]


def test_stop_waits_for_an_open_window_whose_guard_then_refuses_and_none_starts_after(
    flow: Flow, resumed: None
) -> None:
    """The stop flag is set at once; a window already open sends no further chunk (its
    guard reads the flag right before the send), and the stop returns once it closed."""
    leader = flow.leader()
    _, first_addr = flow.follower(leader)
    nonce0 = flow.s.chain.nonce(first_addr, "pending")
    p = flow.payload(leader, collateral_usd="10", leverage=1)
    returned = threading.Event()
    with paused(flow.stack.dir / "pause", "send.in_window") as point:
        flow.submit(p)
        point.wait_reached()  # the worker holds the stop flag's shared lock
        (signed,) = flow.q.intents(signal_id=p["signal_id"])
        stopper = threading.Thread(
            target=lambda: (flow.s.mode.stop("pytest", "drill"), returned.set())
        )
        stopper.start()
        time.sleep(0.5)
        assert not returned.is_set()  # stop waits for the broadcast in flight
        point.release()
        stopper.join(10)
    assert returned.is_set()
    # The open window's chunk had not gone out when the flag was set: it never did ...
    assert flow.s.chain.rpc("eth_getTransactionByHash", signed["tx_hash"]) is None
    assert flow.q.intents(signal_id=p["signal_id"])[0]["state"] == "signed"
    # ... and a signal after the stop does not go out either.
    later = flow.payload(leader, collateral_usd="10", leverage=1)
    flow.submit(later)
    time.sleep(4 * PERIOD)
    (waiting,) = flow.q.intents(signal_id=later["signal_id"])
    assert waiting["state"] in ("pending", "created")
    assert flow.s.chain.nonce(first_addr, "pending") == nonce0
    flow.s.mode.resume("pytest", "drill over")
    for sid in (p["signal_id"], later["signal_id"]):
        flow.wait_done(sid)
    assert flow.position(first_addr).size_usd_1e6 == 20 * 10**6


def test_stop_waits_for_a_chunk_its_guard_let_go_and_nothing_goes_out_after(
    flow: Flow, resumed: None
) -> None:
    """A window whose guard has said go (the chunk is about to be sent) holds the stop
    until it has closed: the chunk reaches the node before `stop` returns."""
    leader = flow.leader()
    _, address = flow.follower(leader)
    p = flow.payload(leader, collateral_usd="10", leverage=1)
    returned = threading.Event()
    with paused(flow.stack.dir / "pause", "window.after_guard") as point:
        flow.submit(p)
        point.wait_reached()
        (signed,) = flow.q.intents(signal_id=p["signal_id"])
        stopper = threading.Thread(
            target=lambda: (flow.s.mode.stop("pytest", "drill"), returned.set())
        )
        stopper.start()
        procs.wait_until(flow.s.mode.stopped, 5, "the flag set at once")
        time.sleep(0.5)
        assert not returned.is_set()  # the stop waits for the window that is sending
        point.release()
        stopper.join(10)
    assert returned.is_set()
    assert flow.s.chain.rpc("eth_getTransactionByHash", signed["tx_hash"]) is not None
    flow.wait_done(p["signal_id"])
    assert flow.position(address).size_usd_1e6 == 10 * 10**6
