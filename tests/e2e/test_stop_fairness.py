"""`copytrade stop` cannot be starved: with K overlapping broadcast windows held open all
the time (holders on their own database connections, through the product's own window
code) and real workers broadcasting a steady load through a fault proxy, the stop returns
within one window's bound plus 1 s, and the wire shows no eth_sendRawTransaction after it
returned (the node is asked through the proxy, not our rows). On the simple router and on
the GMX venue (a dev keeper filling the requests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from core.drills.windows import WindowHolders
from tests.support import procs
from tests.support.faultproxy import FaultProxy, host_port
from tests.support.flow import Flow
from tests.support.stacks import WorkerSet
from tests.support.venues import worker_set_on

BOUND_S = 3.0  # COPYTRADE_BROADCAST_WINDOW_S of the workers and of the holders
HOLD_S = 1.0


@dataclass
class Rig:
    ws: WorkerSet
    rpc: FaultProxy
    flow: Flow


@contextmanager
def _proxied(stack: Any) -> Iterator[tuple[FaultProxy, dict[str, str]]]:
    """A fault proxy of its own before the node (it counts this rig's sends only)."""
    rpc = FaultProxy(host_port(stack.rpc_url))
    try:
        yield (
            rpc,
            {
                "COPYTRADE_RPC_URL": f"http://{rpc.address}",
                "COPYTRADE_BROADCAST_WINDOW_S": str(BOUND_S),
            },
        )
    finally:
        rpc.close()


def _rig(stack: Any, venue: str, broker_db: int) -> Iterator[Rig]:
    with (
        _proxied(stack) as (rpc, env),
        worker_set_on(venue, stack, "stopfair", broker_db, **env) as ws,
    ):
        yield Rig(ws, rpc, Flow(stack, ws.workers, services=ws.services))


@pytest.fixture(scope="module")
def simple_rig(stack: Any) -> Iterator[Rig]:
    yield from _rig(stack, "simple", 4)


@pytest.fixture(scope="module")
def gmx_rig(stack: Any) -> Iterator[Rig]:
    yield from _rig(stack, "gmx", 21)


@pytest.fixture(params=["simple", "gmx"])
def rig(request: pytest.FixtureRequest) -> Rig:
    """The workers on the simple router, or on the GMX venue (each set up once)."""
    return request.getfixturevalue(f"{request.param}_rig")  # type: ignore[no-any-return]


class Load:
    """One signal every `every_s` for `leader`, from a thread."""

    def __init__(self, flow: Flow, leader: str, every_s: float = 0.2) -> None:
        self.flow, self.leader, self.every_s = flow, leader, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.flow.submit(self.flow.payload(self.leader, collateral_usd="1", leverage=1))
            self._stop.wait(self.every_s)


@pytest.mark.parametrize("k", [0, 2, 4, 8])
def test_stop_returns_within_a_window_bound_with_k_overlapping_windows_and_nothing_after(
    rig: Rig, k: int
) -> None:
    flow = rig.flow
    leader = flow.leader()
    for _ in range(5):
        flow.follower(leader)
    returned: list[float] = []
    seen_stopped: list[bool] = []

    def stop() -> None:
        flow.s.mode.stop(
            "pytest",
            f"fairness k={k}",
            on_wait=lambda _: seen_stopped.append(flow.s.mode.stopped()),
        )
        returned.append(time.monotonic())

    try:
        with Load(flow, leader), WindowHolders(flow.s.mode, k, HOLD_S) as holders:
            before = rig.rpc.sent_total()
            procs.wait_until(lambda: rig.rpc.sent_total() >= before + 10, 30, "broadcasts")
            assert holders.opened >= k
            t0 = time.monotonic()
            stopper = threading.Thread(target=stop, daemon=True)
            stopper.start()
            stopper.join(BOUND_S + 1)
            took = (returned[0] - t0) if returned else None
            time.sleep(2)  # the load goes on submitting; the workers keep trying
        stopper.join(60)  # a starved stop gets its lock once the holders are gone
        assert took is not None, f"stop did not return within {BOUND_S + 1} s"
        assert took <= BOUND_S + 1
        assert rig.rpc.sent_after(returned[0]) == 0
        assert rig.rpc.sent_total() > before  # broadcasts went out before the stop
        if k:  # it said what it waited for, and the flag was already visible then
            assert seen_stopped
            assert all(seen_stopped)
    finally:
        stopper.join(60)
        flow.s.mode.resume("pytest", "fairness test over")


def test_a_window_held_past_its_bound_cannot_hold_the_stop(rig: Rig) -> None:
    """A frozen holder (a worker stopped mid-window) is ended by PostgreSQL at the bound."""
    flow = rig.flow
    try:
        with WindowHolders(flow.s.mode, 1, hold_s=60) as holders:
            assert holders.opened == 1
            t0 = time.monotonic()
            flow.s.mode.stop("pytest", "frozen window")
            took = time.monotonic() - t0
        assert took <= BOUND_S + 1
        assert holders.refused >= 1  # its session was ended under it
    finally:
        flow.s.mode.resume("pytest", "fairness test over")
