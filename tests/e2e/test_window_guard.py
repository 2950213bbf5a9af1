"""The verdict is read again before every chunk of a broadcast: the mode store (its own
redis-server) is killed while a slow RPC (every reply held 2 s by a fault proxy) is part-way
through a four-chunk broadcast. The wire shows no eth_sendRawTransaction after the kill:
the next chunk's guard read DRY and the rest waited, to go out once LIVE came back. On the
simple router and on the GMX venue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import procs
from tests.support.faultproxy import FaultProxy, host_port
from tests.support.flow import Flow
from tests.support.pauses import paused
from tests.support.venues import VENUES, worker_set_on

FOLLOWERS = 4  # one chunk each (COPYTRADE_BROADCAST_CHUNK=1)


@pytest.fixture(params=VENUES)
def rig(
    stack: Any, session_dir: Any, request: pytest.FixtureRequest
) -> Iterator[tuple[Flow, FaultProxy, procs.Proc]]:
    mode_redis, url = procs.start_redis(session_dir)
    rpc = FaultProxy(host_port(stack.rpc_url))
    try:
        with (
            worker_set_on(
                request.param,
                stack,
                "guard",
                5,
                n_workers=1,
                heartbeat=True,
                COPYTRADE_MODE_REDIS_URL=url + "/0",
                COPYTRADE_RPC_URL=f"http://{rpc.address}",
                COPYTRADE_BROADCAST_CHUNK="1",
                COPYTRADE_BROADCAST_WINDOW_S="60",
            ) as ws,
        ):
            flow = Flow(stack, ws.workers, services=ws.services)
            procs.wait_until(lambda: flow.s.mode.verdict().live, 20, "LIVE")
            yield flow, rpc, mode_redis
    finally:
        rpc.close()
        mode_redis.stop()


def test_mode_store_killed_mid_broadcast_no_chunk_goes_out_after_a_dry_verdict(
    rig: tuple[Flow, FaultProxy, procs.Proc],
) -> None:
    flow, rpc, mode_redis = rig
    leader = flow.leader()
    for _ in range(FOLLOWERS):
        flow.follower(leader)
    p = flow.payload(leader, collateral_usd="10", leverage=1)
    with paused(flow.stack.dir / "pause", "send.before_window") as point:
        flow.submit(p)
        point.wait_reached()  # all four signed, about to be broadcast
        rpc.faults.delay_s = 2.0  # from here every RPC reply takes 2 s
        before = rpc.sent_total()
    procs.wait_until(lambda: rpc.sent_total() > before, 20, "the first chunk on the wire")
    mode_redis.stop()  # the mode store is gone: the next verdict read is DRY
    killed = time.monotonic()
    time.sleep(3 * 4 + 2)  # long enough for every later chunk (identity check + send, 2 s each)
    assert rpc.sent_after(killed) == 0
    assert rpc.sent_total() - before == 1
    states = sorted(i["state"] for i in flow.q.intents(signal_id=p["signal_id"]))
    assert states.count("signed") == FOLLOWERS - 1  # waiting with their bytes, not dropped
    rpc.faults.delay_s = 0
    mode_redis.restart()
    flow.wait_done(p["signal_id"], timeout=90)
    assert {i["state"] for i in flow.q.intents(signal_id=p["signal_id"])} == {"confirmed"}
