""" "Nonce used outside the system" is decided from one node at one pinned block. Two RPC
endpoints, each behind a fault proxy: the primary is the session's node, the fallback a
lagging node (an anvil forked before our order was sent, which never sees it). The stuck
scan's nonce check is held at `nonces.after_count` (it has read the primary's counts) while
the primary goes away: every later answer comes from the lagging node. Our mined order is
never re-signed. A nonce truly spent outside is still found and re-signed — once it is
COPYTRADE_CONFIRMATIONS deep and two scans in a row saw the same transaction take it.

Driven in this process on the real PostgreSQL, Redis heartbeat and anvil."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from core.adapters.chain import Chain
from core.bootstrap import Services
from core.domain.signals import parse_signal
from core.domain.types import Mode
from tests.support import procs
from tests.support.chain import spend_outside
from tests.support.databases import fresh_database
from tests.support.faultproxy import FaultProxy, host_port
from tests.support.flow import Flow
from tests.support.pauses import paused
from tests.support.stacks import settings_with

GWEI = 10**9


@dataclass
class Rig:
    flow: Flow
    primary: FaultProxy
    fallback: FaultProxy
    main: Chain  # the session's node, asked directly


@pytest.fixture
def rig(stack: Any) -> Iterator[Rig]:
    primary, fallback = (FaultProxy(host_port(stack.rpc_url)) for _ in range(2))
    try:
        with fresh_database("ct_nonceview") as url:
            s = Services(
                settings_with(
                    {
                        **stack.env,
                        "COPYTRADE_DATABASE_URL": url,
                        "COPYTRADE_RPC_URL": f"http://{primary.address}",
                        "COPYTRADE_RPC_FALLBACK_URLS": f"http://{fallback.address}",
                        "COPYTRADE_RPC_RETRY_PRIMARY_AFTER_S": "600",
                        "COPYTRADE_RPC_TIMEOUT_S": "3",
                        "COPYTRADE_CONFIRMATIONS": "2",
                    }
                )
            )
            s.mode.request(Mode.LIVE, "pytest", "nonce view")
            yield Rig(Flow(stack, services=s), primary, fallback, Chain(stack.rpc_url))
            s.db.dispose()
    finally:
        primary.close()
        fallback.close()


def signed_intent(rig: Rig) -> tuple[int, dict[str, Any], str]:
    flow, s = rig.flow, rig.flow.s
    leader = flow.leader()
    fid, address = flow.follower(leader)
    spec = parse_signal(flow.payload(leader, collateral_usd="10", leverage=1))
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    s.pipeline.size(pk)
    assert s.pipeline.build(pk) == 1
    (intent,) = flow.q.intents(signal_id=spec.signal_id)
    return pk, intent, address


def deep(rig: Rig, tx_hash: str, blocks: int = 2) -> None:
    def ok() -> bool:
        r = rig.main.receipts([tx_hash]).get(tx_hash)
        return r is not None and rig.main.block_number() - r.block_number + 1 >= blocks

    procs.wait_until(ok, 20, f"{tx_hash} {blocks} blocks deep")


def test_our_mined_order_is_never_re_signed_when_the_answers_come_from_a_lagging_node(
    rig: Rig, session_dir: Any
) -> None:
    s = rig.flow.s
    pk, intent, address = signed_intent(rig)
    lagging, lag_url = procs.start_anvil(session_dir, "--fork-url", rig.main.rpc_url)
    try:
        rig.fallback.upstream = host_port(lag_url)  # the fallback never sees what follows
        assert s.pipeline.send(pk) == 1  # through the primary, to the session's node
        deep(rig, intent["tx_hash"])
        assert rig.main.nonce(address) == 1
        moved: list[int] = []
        with paused(rig.flow.stack.dir / "pause", "nonces.after_count") as point:
            scan = threading.Thread(target=lambda: moved.append(s.maintenance.reconcile_nonces()))
            scan.start()
            point.wait_reached()  # it read the primary's count: our nonce is consumed
            rig.primary.refuse()  # from here on every answer is the lagging node's
            point.release()
            scan.join(30)
        moved += [s.maintenance.reconcile_nonces() for _ in range(2)]
        assert moved == [0, 0, 0]
        after = rig.flow.q.intent(intent["id"])
        assert (after["nonce"], after["reason"]) == (0, None)
        assert [a["tx_hash"] for a in after["attempts"]] == [intent["tx_hash"]]
        assert Chain(lag_url).nonce(address, "pending") == 0  # nothing re-signed reached it
    finally:
        lagging.stop()


def spend(rig: Rig, intent: dict[str, Any]) -> str:
    ref = rig.flow.s.registry.follower(intent["follower_id"]).signer_ref
    return spend_outside(rig.main, ref, intent["nonce"], max_fee_gwei=50)


def test_a_nonce_truly_spent_outside_is_re_signed_after_two_scans_agree(rig: Rig) -> None:
    s = rig.flow.s
    _, intent, address = signed_intent(rig)
    deep(rig, spend(rig, intent))
    assert s.maintenance.reconcile_nonces() == 0  # the first sighting is only noted
    assert s.attempts.suspect(intent["id"]) is not None
    assert s.maintenance.reconcile_nonces() == 1  # the same transaction again: re-signed
    moved = rig.flow.q.intent(intent["id"])
    assert moved["nonce"] == intent["nonce"] + 1
    assert moved["reason"] == f"re-signed: nonce {intent['nonce']} used outside the system"
    assert s.attempts.suspect(intent["id"]) is None
    deep(rig, moved["attempts"][-1]["tx_hash"], blocks=1)
    assert rig.main.nonce(address) == intent["nonce"] + 2


@pytest.fixture
def pruned(stack: Any, session_dir: Any) -> Iterator[Rig]:
    """A node that keeps only the newest states (anvil --prune-history): it cannot say
    which transaction took a nonce a few blocks back."""
    node, url = procs.start_anvil(session_dir, "--prune-history", "2")
    try:
        with fresh_database("ct_pruned") as db_url:
            env = {**stack.env, "COPYTRADE_DATABASE_URL": db_url, "COPYTRADE_RPC_URL": url}
            s = Services(settings_with(env))
            s.mode.request(Mode.LIVE, "pytest", "pruned node")
            yield Rig(Flow(stack, services=s), None, None, Chain(url))  # type: ignore[arg-type]
            s.db.dispose()
    finally:
        node.stop()


def test_a_nonce_taken_by_a_transaction_that_cannot_be_found_is_held_and_alarmed(
    pruned: Rig,
) -> None:
    s = pruned.flow.s
    _, intent, address = signed_intent(pruned)
    spend(pruned, intent)  # mined at once (automine)
    pruned.main.rpc("anvil_mine", hex(20))  # its block's state is gone from the node
    assert [s.maintenance.reconcile_nonces() for _ in range(3)] == [0, 0, 0]
    held = pruned.flow.q.intent(intent["id"])
    assert (held["state"], held["nonce"], held["reason"]) == ("signed", 0, None)
    alarm = s.controls.noted("nonce_alarm")
    assert alarm is not None
    assert f"intent {intent['id']}: nonce 0" in alarm[0]
