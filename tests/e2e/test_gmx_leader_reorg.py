"""A GMX leader's executions copied exactly once through a watcher killed mid-round and
through a reorg of the execution's block, on a local stack of its own (LocalStack on the
GMX venue: its chain is mined by the stack's clock, which a reorg pauses)."""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.adapters.gmx import local
from core.adapters.postgres.reads.queries import Queries
from core.adapters.postgres.tables import leader_txs, signals
from core.adapters.signers.local import LocalSigner
from core.domain.types import USD
from core.drills.local import LocalStack
from tests.support import procs
from tests.support.localgmx import MARKET_DECREASE, MARKET_INCREASE, create_order, order_params
from tests.support.pauses import Pause

RAW = 10**24


@dataclass
class Rig:
    stack: LocalStack
    s: Any
    leader: LocalSigner
    pause_dir: Path

    def size(self, account: str) -> int:
        return local.position(self.s.chain, self.stack.gmx, account, "ETH", True)[0]

    def trade(self, increase: bool, size_usd: int, collateral_usd: int) -> None:
        before = self.size(self.leader.address)
        kind = MARKET_INCREASE if increase else MARKET_DECREASE
        acceptable = 3_100 * USD if increase else 2_900 * USD
        params = order_params(
            self.stack.gmx, self.leader.address, kind, size_usd, collateral_usd * USD, acceptable
        )
        create_order(self.s.chain, self.stack.gmx, self.leader, params)
        procs.wait_until(lambda: self.size(self.leader.address) != before, 30, "leader filled")

    def followers_at(self, usd: int, timeout: float = 60) -> None:
        want = usd * USD * RAW
        try:
            procs.wait_until(
                lambda: all(self.size(a) == want for _, a in self.stack.followers),
                timeout,
                f"followers at {usd} USD",
            )
        except TimeoutError as exc:
            q = Queries(self.s.db)
            got = [self.size(a) / (USD * RAW) for _, a in self.stack.followers]
            rows = [(r.status, r.reason, r.payload) for r in self.rows()]
            intents = [
                (i["id"], i["action"], i["state"], i["reason"])
                for sig in self.signals()
                for i in q.intents(signal_id=sig.signal_id)
            ]
            raise TimeoutError(f"{exc}: {got}; rows {rows}; intents {intents}") from exc

    def rows(self) -> list[Any]:
        with self.s.db.tx() as conn:
            return list(conn.execute(select(leader_txs).order_by(leader_txs.c.id)))

    def signals(self) -> list[Any]:
        with self.s.db.tx() as conn:
            return list(conn.execute(select(signals).order_by(signals.c.id)))


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    pause_dir = tmp_path / "pause"
    pause_dir.mkdir()
    (tmp_path / "stack").mkdir()
    stack = LocalStack(
        tmp_path / "stack",
        followers=0,
        beats=2,
        venue="gmx",
        COPYTRADE_LEADER_POLL_S="0.25",
        COPYTRADE_TEST_PAUSE_DIR=str(pause_dir),
    )
    try:
        s = stack.start()
        assert stack.gmx is not None
        leader = LocalSigner.from_key("0x" + secrets.token_hex(32))
        s.chain.rpc("anvil_setBalance", leader.address, hex(10**19))
        keeper = stack._keeper
        local.fund_usdc(s.chain, keeper, 31337, stack.gmx, leader.address, 10_000 * USD)
        local.approve_usdc(s.chain, leader, 31337, stack.gmx, 10_000 * USD)
        s.registry.add_leader(leader.address, "pytest", s.chain.block_number())
        stack.add_followers(2, leader.address)
        yield Rig(stack, s, leader, pause_dir)
    finally:
        stack.stop()


def _reorg_keeping_every_tx(rig: Rig, from_block: int) -> None:
    """Replace the blocks from `from_block` to the head (mining paused) with one block
    holding every transaction they had, in their order: each is re-included elsewhere."""
    rig.stack.pause_mining()
    try:
        chain = rig.s.chain
        head = chain.block_number()
        blocks = chain.blocks(list(range(from_block, head + 1)))
        hashes = [t.hash for b in blocks if b is not None for t in b.txs]
        raws = [chain.rpc("eth_getRawTransactionByHash", h) for h in hashes]
        chain.rpc("anvil_reorg", head - from_block + 1, [[r, 0] for r in raws])
        moved = chain.receipts(hashes)
        assert set(moved) == set(hashes)
        assert {r.block_number for r in moved.values()} == {from_block}
    finally:
        rig.stack.resume_mining()


def test_a_reorg_re_including_the_leader_s_execution_copies_it_once(rig: Rig) -> None:
    rig.trade(True, 500, 100)
    rig.followers_at(500)
    (opened,) = [r for r in rig.rows() if r.status == "signal"]
    _reorg_keeping_every_tx(rig, opened.block_number)
    rig.trade(False, 250, 0)  # half: each follower's 500 -> 250, once
    rig.followers_at(250)
    procs.wait_until(lambda: len(rig.signals()) == 2, 20, "the decrease's signal")
    rows = rig.rows()
    assert [(r.tx_hash, r.status) for r in rows][0] == (opened.tx_hash, "signal")
    assert [r.status for r in rows] == ["signal", "signal"]
    assert [s.action for s in rig.signals()] == ["open", "decrease"]
    q = Queries(rig.s.db)
    for s in rig.signals():  # one intent per follower for each
        assert len(q.intents(signal_id=s.signal_id)) == 2
    rig.followers_at(250, timeout=5)  # and stays: the re-included open was not copied again


def test_a_watcher_killed_mid_round_copies_each_execution_once(rig: Rig) -> None:
    point = Pause(rig.pause_dir, "leaders.after_record")
    point.arm()
    try:
        rig.trade(True, 500, 100)
        pid = point.wait_reached(timeout=30)
        os.kill(pid, signal.SIGKILL)
    finally:
        point.clear()
    beats = [n for n in rig.stack.emb.procs if n.startswith("beat")]
    for n in beats:
        rig.stack.emb.procs[n].kill()
        rig.stack.emb.procs[n].wait(5)
    rig.stack.restart_beats()
    rig.followers_at(500)
    rig.trade(False, 100, 0)  # 20%
    rig.followers_at(400)
    procs.wait_until(lambda: len(rig.signals()) == 2, 20, "two signals")
    assert [s.action for s in rig.signals()] == ["open", "decrease"]
    assert [r.status for r in rig.rows()] == ["signal", "signal"]
