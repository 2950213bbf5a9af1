"""RPC endpoints: failover to the next URL and back, and a node on the wrong chain is never
used (a fresh anvil at the same URL, or a different network)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from core.adapters.chain import Chain
from core.bootstrap import Services
from core.domain.errors import WrongChain
from core.domain.mode import CHAIN_ALARM
from core.domain.signals import parse_signal
from tests.support import procs
from tests.support.flow import Flow
from tests.support.stacks import settings_with


def test_failover_to_the_second_url_and_back_to_the_first(stack: Any) -> None:
    primary_port = procs.free_port()
    primary = f"http://127.0.0.1:{primary_port}"
    s = Services(
        settings_with(
            {
                **stack.env,
                "COPYTRADE_RPC_URL": primary,
                "COPYTRADE_RPC_FALLBACK_URLS": stack.rpc_url,
                "COPYTRADE_RPC_RETRY_PRIMARY_AFTER_S": "0.5",
            }
        )
    )
    chain: Chain = s.chain
    assert chain.block_number() > 0  # the primary refuses: answered by the fallback
    assert chain.current_url == stack.rpc_url
    # The primary comes up (a fork of the same chain: same id, same genesis) ...
    fork = procs.Proc(
        [
            str(procs.ANVIL),
            "--port",
            str(primary_port),
            "--host",
            "127.0.0.1",
            "--fork-url",
            stack.rpc_url,
            "--silent",
        ],
        stack.dir / "fork.log",
    )
    try:
        procs.wait_until(lambda: procs.port_open(primary_port), 20, "fork")
        time.sleep(0.6)  # ... and once its back-off is over, calls go to it again
        chain.block_number()
        assert chain.current_url == primary
    finally:
        fork.stop()


def test_a_node_on_another_chain_is_refused_and_nothing_is_sent(stack: Any) -> None:
    other, url = procs.start_anvil(stack.dir)  # a fresh anvil: same chain id, new genesis
    try:
        good = stack.services()
        flow = Flow(stack, services=good)
        leader = flow.leader()
        _, address = flow.follower(leader)
        good.chain.block_number()  # the session database recorded the session chain
        wrong = Services(settings_with({**stack.env, "COPYTRADE_RPC_URL": url}))
        with pytest.raises(WrongChain, match="recorded on"):
            wrong.chain.block_number()
        alarm = good.controls.noted(CHAIN_ALARM)
        assert alarm is not None
        assert "recorded on" in alarm[0]
        assert alarm[1] < 60
        spec = parse_signal(flow.payload(leader, collateral_usd="10", leverage=1))
        _, pk = good.signals.insert_signal(spec, good.registry.leader_id(leader), "test")
        good.pipeline.validate(pk)
        good.pipeline.size(pk)
        assert good.pipeline.build(pk) == 1
        with pytest.raises(WrongChain):
            wrong.pipeline.send(pk)
        assert flow.q.intents(signal_id=spec.signal_id)[0]["state"] == "signed"
        assert Chain(url).nonce(address, "pending") == 0
        assert good.chain.nonce(address, "pending") == 0  # nothing reached either node
        good.pipeline.send(pk)  # the right node takes the same bytes
        assert good.chain.known([flow.q.intents(signal_id=spec.signal_id)[0]["tx_hash"]])
    finally:
        other.stop()
