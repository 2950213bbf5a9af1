"""The leader watcher on a real chain: a leader key sends real transactions to the deployed
router; two beats run the watcher (one round at a time); followers copy through the real
pipeline (2 prefork workers). Restarts, a worker killed between the block's commit and the
submit, reorgs before and after followers traded, and calls that are not orders."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.adapters.postgres.tables import leader_txs
from core.adapters.signers.local import LocalSigner
from core.adapters.venue import encode_order
from core.adapters.venue_admin import position
from core.domain.types import Action
from core.domain.venue import OrderCall
from core.drills.local import LocalStack
from tests.support import procs
from tests.support.pauses import Pause, paused

GWEI = 10**9
PRICE = 100_000 * 10**6


@dataclass
class Rig:
    stack: LocalStack
    s: Any
    leader: LocalSigner
    pause_dir: Path

    def trade(
        self, action: Action, usd: int = 10, lev: int = 2, asset: str = "BTC", long: bool = True
    ) -> tuple[str, bytes]:
        """The leader sends one placeOrder; returns (hash, raw) once mined."""
        acceptable = PRICE * 2 if (action in (Action.OPEN, Action.INCREASE)) == long else 1
        data = encode_order(
            OrderCall(action, asset, long, usd * 10**6, lev, acceptable, secrets.token_bytes(32))
        )
        return self.send(self.s.settings.venue_address, data)

    def send(self, to: str, data: bytes, wait: bool = True) -> tuple[str, bytes]:
        signed = self.leader.sign_transaction(
            {
                "type": 2,
                "chainId": 31337,
                "nonce": self.s.chain.nonce(self.leader.address, "pending"),
                "to": to,
                "value": 0,
                "data": data,
                "gas": 300_000,
                "maxFeePerGas": 50 * GWEI,
                "maxPriorityFeePerGas": 2 * GWEI,
            }
        )
        (out,) = self.s.chain.send_raw([signed.raw])
        assert out.accepted, out
        if wait:
            procs.wait_until(lambda: self.s.chain.receipts([signed.tx_hash]), 20, "leader tx")
        return signed.tx_hash, signed.raw

    def signal_of(self, tx_hash: str, timeout: float = 30) -> dict[str, Any]:
        sid = f"chain:31337:{tx_hash}:0"
        procs.wait_until(lambda: self.q.signal(sid)["state"] in ("done",), timeout, sid)
        return self.q.signal(sid)

    @property
    def q(self) -> Any:
        from core.adapters.postgres.reads.queries import Queries

        return Queries(self.s.db)

    def rows(self, tx_hash: str) -> list[dict[str, Any]]:
        with self.s.db.tx() as conn:
            return [
                dict(r._mapping)
                for r in conn.execute(select(leader_txs).where(leader_txs.c.tx_hash == tx_hash))
            ]

    def followers_of_leader(self) -> list[tuple[int, str]]:
        return self.stack.followers[-2:]

    def held(self, address: str) -> int:
        return position(self.s.chain, self.s.settings.venue_address, address, "BTC").size_usd_1e6


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    d = tmp_path_factory.mktemp("leaders")
    pause_dir = d / "pause"
    pause_dir.mkdir()
    stack = LocalStack(
        d / "stack",
        followers=0,
        beats=2,
        COPYTRADE_LEADER_POLL_S="0.25",
        COPYTRADE_TEST_PAUSE_DIR=str(pause_dir),
    )
    (d / "stack").mkdir()
    try:
        s = stack.start()
        leader = LocalSigner.from_key(secrets.token_hex(32))
        s.chain.rpc("anvil_setBalance", leader.address, hex(10**20))
        s.registry.add_leader(leader.address, "pytest", s.chain.block_number())
        stack.leader = leader.address
        stack.add_followers(2, leader.address)
        yield Rig(stack, s, leader, pause_dir)
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
def flat(rig: Rig) -> Iterator[None]:
    """Each test starts and ends with the leader and its followers holding nothing."""
    yield
    if rig.held(rig.leader.address) > 0:
        rig.trade(Action.CLOSE, usd=0)
    for _, address in rig.followers_of_leader():
        procs.wait_until(lambda a=address: rig.held(a) == 0, 30, "followers flat")


def test_open_increase_decrease_close_copied_once_each(rig: Rig) -> None:
    (f1, a1), (f2, a2) = rig.followers_of_leader()
    expected = 0
    latencies = []
    for action, usd in (
        (Action.OPEN, 10),
        (Action.INCREASE, 5),
        (Action.DECREASE, 4),
        (Action.CLOSE, 0),
    ):
        t0 = time.monotonic()
        tx_hash, _ = rig.trade(action, usd=usd)
        mined = time.monotonic()
        sid = f"chain:31337:{tx_hash}:0"
        procs.wait_until(lambda sid=sid: rig.q.signal(sid)["state"] != "accepted", 20, sid)
        latencies.append(time.monotonic() - mined)
        sig = rig.signal_of(tx_hash)
        assert (sig["action"], sig["asset"], sig["side"]) == (action.value, "BTC", "long")
        assert sig["price_usd_1e6"] == PRICE
        expected = {Action.OPEN: 20, Action.INCREASE: 30, Action.DECREASE: 22, Action.CLOSE: 0}[
            action
        ] * 10**6
        assert rig.held(rig.leader.address) == expected
        for fid, address in ((f1, a1), (f2, a2)):
            procs.wait_until(
                lambda a=address, e=expected: rig.held(a) == e, 20, f"follower {fid} at {expected}"
            )
        assert t0 <= mined
    print(f"block-to-dispatched latencies (s): {[round(x, 3) for x in latencies]}")


def test_watcher_killed_mid_round_and_restarted_misses_nothing_twice_nothing(rig: Rig) -> None:
    """The worker running the round is SIGKILLed after the block's rows are committed and
    before the signal is submitted; beats stopped and started again meanwhile."""
    point = Pause(rig.pause_dir, "leaders.after_record")
    point.arm()
    try:
        tx1, _ = rig.trade(Action.OPEN, usd=3)
        pid = point.wait_reached(timeout=20)
        os.kill(pid, signal.SIGKILL)
    finally:
        point.clear()
    beats = [n for n in rig.stack.emb.procs if n.startswith("beat")]
    for n in beats:
        rig.stack.emb.procs[n].kill()
        rig.stack.emb.procs[n].wait(5)
    tx2, _ = rig.trade(Action.INCREASE, usd=2)
    tx3, _ = rig.trade(Action.CLOSE, usd=0)
    rig.stack.restart_beats()
    for h in (tx1, tx2, tx3):
        assert rig.signal_of(h, timeout=30)["state"] == "done"
        assert [r["status"] for r in rig.rows(h)] == ["signal"]
    for _, address in rig.followers_of_leader():
        procs.wait_until(lambda a=address: rig.held(a) == 0, 20, "closed")
    # Two beats all along and a redelivered round: each leader trade is one signal.
    with rig.s.db.tx() as conn:
        n = conn.execute(
            select(leader_txs.c.signal_pk).where(leader_txs.c.tx_hash.in_([tx1, tx2, tx3]))
        ).all()
    assert len(n) == 3
    assert len({r[0] for r in n}) == 3


def test_calls_that_are_not_orders_are_ignored_with_the_reason(rig: Rig) -> None:
    venue = rig.s.settings.venue_address
    reverted, _ = rig.trade(Action.DECREASE, usd=1)  # nothing held: the router reverts
    unknown, _ = rig.send(venue, bytes.fromhex("12345678") + bytes(32))
    elsewhere, _ = rig.send(rig.stack.followers[0][1], b"")
    want = {
        reverted: "reverted",
        unknown: "unknown selector 0x12345678",
        elsewhere: f"not the venue: {rig.stack.followers[0][1].lower()}",
    }
    for h, reason in want.items():
        procs.wait_until(lambda h=h: rig.rows(h), 20, f"{h} recorded")
        (row,) = rig.rows(h)
        assert (row["status"], row["signal_pk"]) == ("ignored", None)
        assert row["reason"].lower() == reason.lower()
    # The watcher did not stall: a real trade right after is copied.
    ok, _ = rig.trade(Action.OPEN, usd=1)
    assert rig.signal_of(ok)["state"] == "done"


def _reorg_out(rig: Rig, tx_hash: str) -> None:
    """Replace the blocks from the leader tx's block to the head (mining paused) with
    blocks holding every other transaction they had, in order: only the leader's is gone."""
    rig.stack.pause_mining()
    try:
        chain = rig.s.chain
        (receipt,) = chain.receipts([tx_hash]).values()
        head = chain.block_number()
        blocks = chain.blocks(list(range(receipt.block_number, head + 1)))
        others = [t.hash for b in blocks if b is not None for t in b.txs if t.hash != tx_hash]
        raws = [chain.rpc("eth_getRawTransactionByHash", h) for h in others]
        chain.rpc("anvil_reorg", head - receipt.block_number + 1, [[r, 0] for r in raws])
        assert not chain.receipts([tx_hash])
        assert set(chain.receipts(others)) == set(others)
    finally:
        rig.stack.resume_mining()


def test_reorg_before_followers_traded_revokes_and_a_reinclusion_does_not_trade(rig: Rig) -> None:
    rig.s.mode.stop("pytest", "hold the followers")
    try:
        tx_hash, raw = rig.trade(Action.OPEN, usd=4)
        sid = f"chain:31337:{tx_hash}:0"
        procs.wait_until(lambda: rig.q.intents(signal_id=sid), 20, "intents")
        _reorg_out(rig, tx_hash)
        procs.wait_until(lambda: rig.q.signal(sid)["state"] == "revoked", 20, "revoked")
        states = {i["state"] for i in rig.q.intents(signal_id=sid)}
        assert states == {"rejected"}
    finally:
        rig.s.mode.resume("pytest", "go on")
    (out,) = rig.s.chain.send_raw([raw])  # the same leader transaction mined again
    assert out.accepted
    procs.wait_until(lambda: rig.s.chain.receipts([tx_hash]), 20, "re-mined")
    time.sleep(2)
    assert rig.q.signal(sid)["state"] == "revoked"
    assert [r["status"] for r in rig.rows(tx_hash)] == ["revoked"]
    for _, address in rig.followers_of_leader():
        assert rig.held(address) == 0


def test_reorg_after_followers_traded_alerts_and_never_trades_twice(rig: Rig) -> None:
    tx_hash, raw = rig.trade(Action.OPEN, usd=3)
    sig = rig.signal_of(tx_hash)
    for _, address in rig.followers_of_leader():
        procs.wait_until(lambda a=address: rig.held(a) == 6 * 10**6, 20, "followers traded")
    _reorg_out(rig, tx_hash)
    procs.wait_until(lambda: rig.q.signal(sig["signal_id"])["state"] == "revoked", 20, "revoked")
    alarm = rig.s.controls.noted("leader_reorg_alarm")
    assert alarm is not None
    assert tx_hash in alarm[0]
    rig.s.chain.send_raw([raw])
    procs.wait_until(lambda: rig.s.chain.receipts([tx_hash]), 20, "re-mined")
    time.sleep(2)
    # Followers were not closed automatically, and the re-included trade was not copied.
    for _, address in rig.followers_of_leader():
        procs.wait_until(lambda a=address: rig.held(a) == 6 * 10**6, 20, "still held once")
    assert [r["status"] for r in rig.rows(tx_hash)] == ["revoked"]


def _leader_add(rig: Rig, address: str, *args: str) -> str:
    from config.settings import foreign_env

    done = subprocess.run(
        procs.copytrade_cmd("leader", "add", "--address", address, *args),
        capture_output=True,
        text=True,
        timeout=60,
        env=foreign_env(rig.stack.env),
        cwd=procs.ROOT,
    )
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())  # rich wraps at the terminal width


def _late_leader(rig: Rig) -> Rig:
    late = LocalSigner.from_key(secrets.token_hex(32))
    rig.s.chain.rpc("anvil_setBalance", late.address, hex(10**20))
    return Rig(rig.stack, rig.s, late, rig.pause_dir)


def test_leader_add_starts_now_and_from_block_back_fills(rig: Rig) -> None:
    before = _late_leader(rig)
    old, _ = before.trade(Action.OPEN, usd=1)
    (old_receipt,) = rig.s.chain.receipts([old]).values()
    address = before.leader.address
    assert "from block" in _leader_add(rig, address)  # from the next block: history
    new, _ = before.trade(Action.INCREASE, usd=1)
    assert before.signal_of(new)["state"] == "done"
    assert before.rows(old) == []
    out = _leader_add(rig, address, "--from-block", str(old_receipt.block_number))  # asked for
    assert f"from block {old_receipt.block_number}" in out
    assert before.signal_of(old)["state"] == "done"
    assert [r["status"] for r in before.rows(new)] == ["signal"]  # read again, not twice


def test_a_back_fill_asked_for_during_a_round_is_not_overwritten_by_it(rig: Rig) -> None:
    """A round read the cursors, then `leader add --from-block` moved one back; the round
    records the next block and must not move that cursor forward over the back-fill."""
    before = _late_leader(rig)
    old, _ = before.trade(Action.OPEN, usd=1)
    (old_receipt,) = rig.s.chain.receipts([old]).values()
    address = before.leader.address
    _leader_add(rig, address)
    new, _ = before.trade(Action.INCREASE, usd=1)  # the cursor is past the old trade
    assert before.signal_of(new)["state"] == "done"
    with paused(rig.pause_dir, "leaders.before_read") as point:
        rig.s.chain.rpc("evm_mine")  # a block for the next round to read
        point.wait_reached(timeout=20)
        _leader_add(rig, address, "--from-block", str(old_receipt.block_number))
    assert before.signal_of(old)["state"] == "done"
    assert [r["status"] for r in before.rows(old)] == ["signal"]
