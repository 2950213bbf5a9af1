"""Outages of the servers the workers talk to, through a TCP fault proxy in front of
PostgreSQL and the RPC: refused, cut, terminated backends, slow, corrupt, a node on another
chain, and a nonce spent outside the system. The test itself talks to both servers directly,
so only the workers see the faults. Each scenario holds a signed batch at a pause point,
applies the fault, lets it run for a while, heals it, and then requires the control run's
outcome and a clean `verify`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from core.bootstrap import Services
from core.domain.mode import CHAIN_ALARM
from tests.chaos.conftest import assert_verified, outcome, signed_rows, start_batch
from tests.support import procs
from tests.support.chain import spend_outside as spend_nonce
from tests.support.databases import PG_ADMIN, fresh_database
from tests.support.faultproxy import FaultProxy, host_port
from tests.support.flow import Flow
from tests.support.pauses import Pause
from tests.support.stacks import WorkerSet, live_worker_set, settings_with

DOWN_S = 10
GWEI = 10**9


@dataclass
class Proxied:
    ws: WorkerSet
    rpc: FaultProxy
    pg: FaultProxy
    flow: Flow  # direct connections: the test's own view is never faulted
    db_name: str
    anvil: tuple[str, int]


@pytest.fixture(scope="module")
def proxied(stack: Any) -> Iterator[Proxied]:
    anvil = host_port(stack.rpc_url)
    rpc, pg = FaultProxy(anvil), FaultProxy(("127.0.0.1", 5432))
    try:
        with (
            fresh_database("ct_chaos_px") as url,
            live_worker_set(
                stack,
                "chaos-px",
                11,
                url.replace("127.0.0.1:5432", pg.address),
                COPYTRADE_RPC_URL=f"http://{rpc.address}",
                COPYTRADE_RPC_TIMEOUT_S="2",
                COPYTRADE_RPC_RETRY_PRIMARY_AFTER_S="1",
            ) as ws,
        ):
            own = {"COPYTRADE_DATABASE_URL": url, "COPYTRADE_RPC_URL": stack.rpc_url}
            direct = Services(settings_with({**ws.env, **own}))
            flow = Flow(stack, ws.workers, services=direct)
            yield Proxied(ws, rpc, pg, flow, url.rsplit("/", 1)[1], anvil)
    finally:
        rpc.close()
        pg.close()


def ride_through(
    stack: Any,
    px: Proxied,
    control: Any,
    fault: Callable[[list[dict[str, Any]]], None],
    heal: Callable[[], None],
    seen: str,
    during: Callable[[list[dict[str, Any]]], None] = lambda signed: None,
    point: str = "send.before_window",
) -> None:
    """Hold a signed batch at `point`, apply the fault, let the workers run into it for
    DOWN_S (their logs must show `seen`), check `during`, heal; then the control outcome
    and a clean verify."""
    flow = px.flow
    hold = Pause(stack.dir / "pause", point)
    hold.arm()
    try:
        batch = start_batch(flow)
        hold.wait_reached(timeout=60)
        signed = signed_rows(flow, batch)
        assert signed  # a batch is in flight when the fault starts
        logs_before = [len(w.text()) for w in px.ws.workers]
        try:
            fault(signed)
            hold.release()
            time.sleep(DOWN_S)
            during(signed)
            new = "".join(w.text()[n:] for w, n in zip(px.ws.workers, logs_before, strict=True))
            assert seen in new  # the workers really ran into the fault
        finally:
            heal()
    finally:
        hold.clear()
    assert outcome(flow, batch) == control
    assert_verified(flow)


def nothing_broadcast(px: Proxied) -> Callable[[list[dict[str, Any]]], None]:
    def check(signed: list[dict[str, Any]]) -> None:
        assert not px.flow.s.chain.known([r["tx_hash"] for r in signed])

    return check


def test_postgres_refused_and_cut_for_10s(stack: Any, proxied: Proxied, control: Any) -> None:
    ride_through(
        stack,
        proxied,
        control,
        fault=lambda _: proxied.pg.refuse(),
        heal=proxied.pg.heal,
        seen="PostgreSQL: connection to server",
        during=nothing_broadcast(proxied),  # the stop flag unreadable reads as "stopped"
    )


def test_worker_backends_terminated_mid_transaction(
    stack: Any, proxied: Proxied, control: Any
) -> None:
    """At send.before_commit the broadcast happened and signed -> sent is uncommitted: the
    worker's backend is terminated, the update is lost, the retry finds the node already
    has the same bytes."""
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")

    def terminate(_: list[dict[str, Any]]) -> None:
        with admin.connect() as c:
            killed = c.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND application_name = 'copytrade' "
                    "AND state LIKE 'idle in transaction%'"
                ),
                {"db": proxied.db_name},
            ).scalar_one()
        assert killed >= 1

    def still_signed(signed: list[dict[str, Any]]) -> None:
        # Sent on chain; if the row already says sent, it is the retry that wrote it.
        assert proxied.flow.s.chain.known([r["tx_hash"] for r in signed])

    try:
        ride_through(
            stack,
            proxied,
            control,
            fault=terminate,
            heal=lambda: None,
            seen="server closed the connection",
            during=still_signed,
            point="send.before_commit",
        )
    finally:
        admin.dispose()


def test_rpc_refused_and_cut_for_10s(stack: Any, proxied: Proxied, control: Any) -> None:
    ride_through(
        stack,
        proxied,
        control,
        fault=lambda _: proxied.rpc.refuse(),
        heal=proxied.rpc.heal,
        seen="ConnectionError",
        during=nothing_broadcast(proxied),
    )


def test_rpc_answering_after_5s_against_a_2s_timeout(
    stack: Any, proxied: Proxied, control: Any
) -> None:
    def slow(_: list[dict[str, Any]]) -> None:
        proxied.rpc.faults.delay_s = 5

    ride_through(stack, proxied, control, fault=slow, heal=proxied.rpc.heal, seen="ReadTimeout")
    # A beat round that timed out is not retried past its expiry (Celery would warn, and
    # the worker discard the retry): the next round is the retry.
    for w in proxied.ws.workers:
        assert "expiration date in the past" not in w.text()


def test_rpc_returning_malformed_json(stack: Any, proxied: Proxied, control: Any) -> None:
    def corrupt(_: list[dict[str, Any]]) -> None:
        proxied.rpc.faults.corrupt = True
        proxied.rpc.cut()  # kept-alive connections too

    ride_through(
        stack, proxied, control, fault=corrupt, heal=proxied.rpc.heal, seen="JSONDecodeError"
    )


def test_node_swapped_for_a_fresh_chain_is_refused_and_never_sent_to(
    stack: Any, proxied: Proxied, control: Any
) -> None:
    """The RPC URL suddenly answers from a fresh anvil (same chain id, new genesis)."""
    fresh, url = procs.start_anvil(stack.dir, "--block-time", "0.5")
    other = Services(settings_with({**stack.env, "COPYTRADE_RPC_URL": url})).chain
    other.identity_check = None  # the test reads the fresh node as it is

    def swap(signed: list[dict[str, Any]]) -> None:
        for r in signed:  # funded there too: only the identity check stands in the way
            other.rpc("anvil_setBalance", r["signer_address"], hex(10 * 10**18))
        proxied.rpc.upstream = host_port(url)
        proxied.rpc.cut()

    def refused(signed: list[dict[str, Any]]) -> None:
        assert not other.known([r["tx_hash"] for r in signed])
        assert all(other.nonce(r["signer_address"], "pending") == 0 for r in signed)
        assert not proxied.flow.s.chain.known([r["tx_hash"] for r in signed])
        alarm = proxied.flow.s.controls.noted(CHAIN_ALARM)
        assert alarm is not None
        assert alarm[1] < DOWN_S
        assert "recorded on" in alarm[0]

    def back() -> None:
        proxied.rpc.upstream = proxied.anvil
        proxied.rpc.cut()
        fresh.stop()

    ride_through(stack, proxied, control, fault=swap, heal=back, seen="WrongChain", during=refused)


def test_our_nonce_spent_outside_mid_batch_is_re_signed_once(
    stack: Any, proxied: Proxied, control: Any
) -> None:

    flow = proxied.flow

    def spend_outside(signed: list[dict[str, Any]]) -> None:
        row = signed[0]
        ref = flow.s.registry.follower(row["follower_id"]).signer_ref
        outside = spend_nonce(flow.s.chain, ref, row["nonce"])
        procs.wait_until(lambda: flow.s.chain.receipts([outside]), 10, "mined")

    ride_through(
        stack,
        proxied,
        control,
        fault=spend_outside,
        heal=lambda: None,
        seen="was used outside the system; re-signed at",
    )
    assert assert_verified(flow).figures["nonces_used_outside"] == 1  # detected, reported
