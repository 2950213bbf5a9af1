"""A worker set on a node that mines only when told (`evm_mine`): the suite's node kind
(anvil, or Hardhat's with COPYTRADE_TEST_NODE=hardhat), with a fast stuck scan: the rig of
the stuck-transaction and broadcast-window tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from core.adapters.chain import Chain
from core.adapters.signers.local import LocalSigner
from core.adapters.venue_admin import deploy
from core.domain.types import Mode
from tests.support import gmx, procs
from tests.support.chain import ANVIL_KEY0, node_kind
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import WorkerSet, settings_with, start_worker_set

GWEI = 10**9
STUCK_AFTER = 1.5
SCAN = 0.5


@dataclass
class Rig:
    stack: Any
    env: dict[str, str]
    chain: Chain
    ws: WorkerSet
    name: str
    broker_db: int
    gmx: Any = None  # the local GMX deployment (LocalGmx) of a rig on that venue

    def restart(self, **overrides: str) -> None:
        self.ws.stop()
        self.env.update(overrides)
        self.ws = start_worker_set(self.stack, self.name, self.broker_db, **self._overrides())

    def _overrides(self) -> dict[str, str]:
        return {k: v for k, v in self.env.items() if k.startswith("COPYTRADE_")}

    def flow(self) -> Flow:
        return Flow(self.stack, self.ws.workers, services=self.ws.services)

    def follower(self, flow: Flow, leader: str, **policy: Any) -> tuple[int, str]:
        """A follower; its set-up transactions (GMX: USDC and the allowance) mined at once."""
        self.chain.rpc("evm_setAutomine", True)
        try:
            return flow.follower(leader, **policy)
        finally:
            self.chain.rpc("evm_setAutomine", False)

    def mine(self, n: int = 1) -> None:
        for _ in range(n):
            self.chain.rpc("evm_mine")

    def mine_then_reorg(self, mined: Callable[[], None]) -> None:
        """Mine one block, wait for `mined`, then replace that block by an empty one. anvil
        has `anvil_reorg`; Hardhat's node rewinds to a snapshot taken before the block."""
        hardhat = node_kind(self.chain) == "hardhat"
        mark = self.chain.rpc("evm_snapshot") if hardhat else None
        self.mine()
        mined()
        if hardhat:
            assert self.chain.rpc("evm_revert", mark) is True
        else:
            self.chain.rpc("anvil_reorg", 1, [])


@contextmanager
def no_mining_rig(
    stack: Any, session_dir: Any, name: str, broker_db: int, venue_kind: str = "simple"
) -> Iterator[Rig]:
    """Its own node (mining on `evm_mine`), database and worker set, on the simple router
    or (`venue_kind="gmx"`) the local GMX venue; stopped on the way out."""
    node, url = procs.start_node(session_dir, None)
    try:
        chain = Chain(url)
        chain.rpc("evm_setAutomine", True)
        on_venue: dict[str, str] = {}
        local = None
        if venue_kind == "gmx":
            local, on_venue = gmx.deploy(chain)
            venue = ""
        else:
            venue = deploy(
                chain,
                LocalSigner.from_key(ANVIL_KEY0),
                31337,
                {"BTC": 100_000 * 10**6, "ETH": 3_000 * 10**6},
            )
        chain.rpc("evm_setAutomine", False)
        with fresh_database(f"ct_{name}") as db_url:
            env = {
                "COPYTRADE_DATABASE_URL": db_url,
                "COPYTRADE_RPC_URL": url,
                "COPYTRADE_VENUE_ADDRESS": venue,
                "COPYTRADE_STUCK_AFTER_S": str(STUCK_AFTER),
                "COPYTRADE_STUCK_AFTER_BLOCKS": "1000",
                "COPYTRADE_STUCK_SCAN_PERIOD_S": str(SCAN),
                "COPYTRADE_FEE_CEILING_WEI": str(500 * GWEI),
                "COPYTRADE_CONFIRMATIONS": "2",
                **on_venue,
            }
            from core.bootstrap import Services

            Services(settings_with({**stack.env, **env})).mode.request(Mode.LIVE, "pytest", "rig")
            ws = start_worker_set(stack, name, broker_db, **env)
            r = Rig(stack, env, chain, ws, name, broker_db, local)
            try:
                yield r
            finally:
                r.ws.stop()
    finally:
        node.stop()


def node_fees(chain: Chain, tx_hash: str) -> tuple[int, int, int, str]:
    tx = chain.rpc("eth_getTransactionByHash", tx_hash)
    return (
        int(tx["maxFeePerGas"], 16),
        int(tx["maxPriorityFeePerGas"], 16),
        int(tx["nonce"], 16),
        tx["input"],
    )


def attempts_of(flow: Flow, intent_id: int) -> list[dict[str, Any]]:
    return flow.q.intent(intent_id)["attempts"]


def sent_intent(flow: Flow, leader: str) -> dict[str, Any]:
    p = flow.payload(leader, collateral_usd="10", leverage=1)
    flow.submit(p)
    procs.wait_until(
        lambda: flow.q.intents(signal_id=p["signal_id"])[0]["state"] == "sent", 30, "sent"
    )
    return flow.q.intents(signal_id=p["signal_id"])[0]
