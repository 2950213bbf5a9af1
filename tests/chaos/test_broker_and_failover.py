"""The broker down while producers keep submitting, and the RPC failing over to a second
node forked from the first. Each ends with the control run's outcome and a clean verify."""

from __future__ import annotations

import time
from typing import Any

import pytest
from celery import Celery
from kombu.exceptions import OperationalError

from config.celery_app import app_for
from core.bootstrap import Services
from tests.chaos.conftest import assert_verified, outcome, start_batch
from tests.support import procs
from tests.support.databases import fresh_database
from tests.support.faultproxy import FaultProxy, host_port
from tests.support.flow import Flow
from tests.support.pauses import Pause
from tests.support.stacks import live_worker_set, settings_with

DOWN_S = 10
# docs/producers.md: a producer keeping answers in the broker's Redis bounds the result
# store's reconnects (Celery's default is 20 one-second tries).
PRODUCER_RETRY = {
    "retry_policy": {
        "max_retries": 3,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
}


def test_broker_down_10s_api_producers_accepted_send_task_bounded(stack: Any, control: Any) -> None:
    broker, url = procs.start_redis(stack.dir)
    port = int(url.rsplit(":", 1)[1])
    try:
        with (
            fresh_database("ct_chaos_bd") as db_url,
            live_worker_set(stack, "chaos-bd", 0, db_url, broker_url=url + "/0") as ws,
        ):
            flow = Flow(stack, ws.workers, services=ws.services)
            broker.kill()
            down_at = time.monotonic()
            batch = start_batch(flow)  # every answer "accepted": the rows are the record
            assert all(flow.q.signal(s)["state"] == "accepted" for s in batch.signal_ids)
            # A send_task producer gets Celery's publish error after its bounded retries —
            # one set up as docs/producers.md says (its answers in the broker's Redis) gets
            # the result store's error first: it subscribes for the answer, then publishes.
            documented = Celery(broker=url + "/0", backend=url + "/0")
            documented.conf.result_backend_transport_options = PRODUCER_RETRY  # the docs'
            for producer in (app_for(url + "/0"), documented):
                started = time.monotonic()
                with pytest.raises((OperationalError, RuntimeError)):
                    producer.send_task("copytrade.submit_signal", args=[{}], queue="intake")
                assert time.monotonic() - started < 10
            time.sleep(max(0.0, DOWN_S - (time.monotonic() - down_at)))
            assert all(flow.q.signal(s)["state"] == "accepted" for s in batch.signal_ids)
            broker.restart()  # empty, as it kept nothing on disk
            procs.wait_until(lambda: procs.port_open(port), 10, "broker back")
            assert outcome(flow, batch) == control  # workers reconnected; reconciler dispatched
            assert_verified(flow)
    finally:
        broker.stop()


def test_primary_rpc_lost_mid_batch_fails_over_to_a_fork_of_it(stack: Any, control: Any) -> None:
    """Both URLs point at the session chain until the primary is cut off; at that moment
    the second URL is answered by a fork of the chain taken then (what was only in the
    primary's mempool is not on it: the watcher sends those same bytes again)."""
    primary, second = FaultProxy(host_port(stack.rpc_url)), FaultProxy(host_port(stack.rpc_url))
    fork: procs.Proc | None = None
    try:
        with (
            fresh_database("ct_chaos_fo") as db_url,
            live_worker_set(
                stack,
                "chaos-fo",
                12,
                db_url,
                COPYTRADE_RPC_URL=f"http://{primary.address}",
                COPYTRADE_RPC_FALLBACK_URLS=f"http://{second.address}",
                COPYTRADE_RPC_TIMEOUT_S="2",
                COPYTRADE_RPC_RETRY_PRIMARY_AFTER_S="5",
            ) as ws,
        ):
            flow = Flow(stack, ws.workers, services=ws.services)
            hold = Pause(stack.dir / "pause", "send.before_window")
            hold.arm()
            try:
                batch = start_batch(flow)
                hold.wait_reached(timeout=60)
                fork, fork_url = procs.start_anvil(
                    stack.dir, "--fork-url", stack.rpc_url, "--block-time", "0.5"
                )
                primary.refuse()  # the primary is gone for good ...
                second.upstream = host_port(fork_url)  # ... the second is the fork
                second.cut()
                hold.release()
            finally:
                hold.clear()
            # The test reads the fork directly from here on (the session chain has moved
            # on without the batch's later orders).
            on_fork = Services(
                settings_with(
                    {**ws.env, "COPYTRADE_RPC_URL": fork_url, "COPYTRADE_RPC_FALLBACK_URLS": ""}
                )
            )
            flow_fork = Flow(stack, ws.workers, services=on_fork)
            assert outcome(flow_fork, batch) == control
            assert_verified(flow_fork)
            hashes = [r["tx_hash"] for s in batch.signal_ids for r in flow.q.intents(signal_id=s)]
            only_on_fork = set(hashes) - stack.services().chain.known(hashes)
            assert only_on_fork  # the failover carried the rest of the batch
    finally:
        primary.close()
        second.close()
        if fork is not None:
            fork.stop()
