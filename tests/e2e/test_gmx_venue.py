"""GMX v2's two-phase order lifecycle on real workers, anvil and the local GMX-compatible
venue (contracts/LocalGmx.sol; its conformance to the SDK's ABIs is
tests/unit/test_gmx_conformance.py): a mined request waits for the keeper; executed (fill
price and size recorded) -> confirmed once the fill is N blocks deep; a request the venue
cancels ends venue_cancelled with its reason and releases the exposure; a fill that a
reorg removes puts the intent back to waiting; positions read back from the venue match
the executed intents."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import decode

from core.adapters.chain import Chain
from core.adapters.gmx.keeper import DevKeeper
from core.adapters.gmx.local import (
    LocalGmx,
    calldata,
    keeper_execute,
    position,
)
from core.adapters.signers.local import LocalSigner
from core.domain.types import USD
from core.services.verify import verify
from tests.support import procs
from tests.support.chain import ANVIL_KEY0
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.gmx import PRICES, deploy
from tests.support.pauses import paused
from tests.support.stacks import live_worker_set

CONFIRMATIONS = 2


@dataclass
class Gmx:
    flow: Flow
    gmx: LocalGmx
    chain: Chain
    keeper: LocalSigner

    def follower(self, leader: str, **policy: Any) -> tuple[int, str]:
        """A follower with ETH, mock USDC and the router's allowance (Flow does it on gmx)."""
        return self.flow.follower(leader, **policy)

    def dev_keeper(self, move_bps: int = 0) -> DevKeeper:
        k = DevKeeper(self.chain, self.keeper, 31337, self.gmx, PRICES, delay_s=0)
        k.move_bps = move_bps
        k.next_block = self.chain.block_number()
        return k

    def submitted(self, body: dict[str, Any]) -> dict[str, Any]:
        """Submit one signal; its only intent once the pipeline created it."""
        self.flow.submit(body)
        procs.wait_until(lambda: self.flow.q.intents(signal_id=body["signal_id"]), 20, "the intent")
        (intent,) = self.flow.q.intents(signal_id=body["signal_id"])
        return intent

    def state(self, intent_id: int) -> str:
        return str(self.flow.q.intent(intent_id)["state"])

    def wait(self, intent_id: int, state: str, timeout: float = 30) -> dict[str, Any]:
        try:
            procs.wait_until(lambda: self.state(intent_id) == state, timeout, f"intent {state}")
        except TimeoutError as exc:
            logs = "\n".join(w.text()[-3000:] for w in self.flow.workers)
            raise TimeoutError(f"{exc}: {self.flow.q.intent(intent_id)}\n{logs}") from exc
        return self.flow.q.intent(intent_id)

    def mine(self, n: int = CONFIRMATIONS) -> None:
        for _ in range(n):
            self.chain.rpc("evm_mine")

    def trade(self, leader: str, keeper: DevKeeper, **payload: Any) -> dict[str, Any]:
        """One signal for the leader's only follower: requested -> executed -> confirmed."""
        body = self.flow.payload(leader, **payload)
        intent = self.submitted(body)
        self.wait(intent["id"], "mined")
        procs.wait_until(lambda: keeper.round().executed == 1, 10, "the keeper executed it")
        self.wait(intent["id"], "executed")
        self.mine()
        return self.wait(intent["id"], "confirmed")


@pytest.fixture(scope="module")
def gmx(stack: Any) -> Iterator[Gmx]:
    chain = Chain(stack.rpc_url)
    local, overrides = deploy(chain)
    with (
        fresh_database("ct_gmx") as url,
        live_worker_set(
            stack,
            "gmx",
            15,
            url,
            **overrides,
            COPYTRADE_CONFIRMATIONS=str(CONFIRMATIONS),
        ) as ws,
    ):
        keeper = LocalSigner.from_key(ANVIL_KEY0)
        yield Gmx(Flow(stack, ws.workers, services=ws.services), local, chain, keeper)


def test_open_increase_decrease_close_each_executed_by_the_keeper(gmx: Gmx) -> None:
    leader = gmx.flow.leader()
    _, address = gmx.follower(leader)
    keeper = gmx.dev_keeper()
    usdc_before = _usdc(gmx, address)

    opened = gmx.trade(
        leader, keeper, asset="ETH", collateral_usd="100", leverage=3, price_usd="3000"
    )
    assert opened["fill_price_usd_1e6"] == PRICES["ETH"]
    assert opened["fill_size_usd_1e6"] == 300 * USD
    assert opened["venue_order_key"] is not None
    assert position(gmx.chain, gmx.gmx, address, "ETH", True)[0] == 300 * USD * 10**24
    assert usdc_before - _usdc(gmx, address) == 100 * USD  # the collateral went to the venue

    gmx.trade(
        leader,
        keeper,
        action="increase",
        asset="ETH",
        collateral_usd="50",
        leverage=2,
        price_usd="3000",
    )
    size, _, collateral = position(gmx.chain, gmx.gmx, address, "ETH", True)
    assert (size, collateral) == (400 * USD * 10**24, 150 * USD)

    gmx.trade(
        leader,
        keeper,
        action="decrease",
        asset="ETH",
        collateral_usd="50",
        leverage=2,
        price_usd="3000",
    )
    size, _, collateral = position(gmx.chain, gmx.gmx, address, "ETH", True)
    assert (size, collateral) == (300 * USD * 10**24, 100 * USD)

    closed = gmx.trade(
        leader,
        keeper,
        action="close",
        asset="ETH",
        collateral_usd="1",
        leverage=1,
        price_usd="3000",
    )
    assert closed["fill_size_usd_1e6"] == 300 * USD  # the whole position, read from the venue
    assert position(gmx.chain, gmx.gmx, address, "ETH", True) == (0, 0, 0)
    assert _usdc(gmx, address) == usdc_before  # no PnL on the local venue: collateral back


def test_the_keeper_cancels_for_slippage_and_the_exposure_is_released(gmx: Gmx) -> None:
    leader = gmx.flow.leader()
    # Room for exactly one 1,000 USD position: a second open sized while the first still
    # counted would be refused.
    fid, address = gmx.follower(leader, max_position_usd_1e6=1_000 * USD, slippage_bps=10)
    moved = gmx.dev_keeper(move_bps=50)  # the price moved 0.5 % against a 0.1 % tolerance
    body = gmx.flow.payload(leader, asset="BTC", collateral_usd="500", leverage=2)
    first = gmx.submitted(body)
    gmx.wait(first["id"], "mined")
    procs.wait_until(lambda: moved.round().executed == 1, 10, "the keeper tried it")
    gmx.mine()
    cancelled = gmx.wait(first["id"], "venue_cancelled")
    assert "OrderNotFulfillableAtAcceptablePrice" in cancelled["reason"]
    assert position(gmx.chain, gmx.gmx, address, "BTC", True) == (0, 0, 0)

    again = gmx.trade(leader, gmx.dev_keeper(), asset="BTC", collateral_usd="500", leverage=2)
    assert again["fill_size_usd_1e6"] == 1_000 * USD  # sized against no exposure
    assert position(gmx.chain, gmx.gmx, address, "BTC", True)[0] == 1_000 * USD * 10**24


def test_a_fill_reorged_out_waits_again_and_confirms_on_the_next_fill(gmx: Gmx) -> None:
    leader = gmx.flow.leader()
    _, address = gmx.follower(leader)
    body = gmx.flow.payload(leader, asset="ETH", collateral_usd="10", leverage=2, price_usd="3000")
    intent = gmx.submitted(body)
    gmx.wait(intent["id"], "mined")
    procs.wait_until(lambda: gmx.flow.q.intent(intent["id"])["venue_order_key"], 10, "order key")
    key = bytes.fromhex(gmx.flow.q.intent(intent["id"])["venue_order_key"][2:])
    keeper_execute(gmx.chain, gmx.keeper, 31337, gmx.gmx, key, PRICES["ETH"], "ETH")
    first = gmx.wait(intent["id"], "executed")
    gmx.chain.rpc("anvil_reorg", 1, [])  # the fill's block replaced, the keeper's tx dropped
    gmx.wait(intent["id"], "mined")
    assert position(gmx.chain, gmx.gmx, address, "ETH", True) == (0, 0, 0)
    keeper_execute(gmx.chain, gmx.keeper, 31337, gmx.gmx, key, PRICES["ETH"] + USD, "ETH")
    gmx.mine()
    done = gmx.wait(intent["id"], "confirmed")
    assert first["fill_price_usd_1e6"] == PRICES["ETH"]
    assert done["fill_price_usd_1e6"] == PRICES["ETH"] + USD  # the second fill's, not the first


def test_a_close_right_behind_its_open_waits_for_the_fill_and_closes_all_of_it(gmx: Gmx) -> None:
    """The sequence gate on a two-phase venue holds a follower's next intent until the
    earlier one is past its outcome: a close sized before the open's fill would find no
    position (rejected no_position) — the demo showed it before the gate did."""
    leader = gmx.flow.leader()
    _, address = gmx.follower(leader)
    keeper = gmx.dev_keeper()
    opening = gmx.submitted(
        gmx.flow.payload(leader, asset="ETH", collateral_usd="20", leverage=2, price_usd="3000")
    )
    gmx.wait(opening["id"], "mined")
    closing = gmx.submitted(
        gmx.flow.payload(leader, action="close", asset="ETH", leverage=2, price_usd="3000")
    )
    time.sleep(1.0)  # several watch passes: the close stays pending behind the request
    assert gmx.state(closing["id"]) == "pending"
    procs.wait_until(lambda: keeper.round().executed == 1, 10, "the open executed")
    gmx.wait(closing["id"], "mined")  # woken by the open's fill, sized, requested
    procs.wait_until(lambda: keeper.round().executed == 1, 10, "the close executed")
    gmx.mine()
    done = gmx.wait(closing["id"], "confirmed")
    assert done["fill_size_usd_1e6"] == 40 * USD
    assert position(gmx.chain, gmx.gmx, address, "ETH", True) == (0, 0, 0)


def _usdc(gmx: Gmx, address: str) -> int:
    (value,) = decode(
        ["uint256"], gmx.chain.call(gmx.gmx.usdc, calldata("balanceOf(address)", address))
    )
    return int(value)


def test_verify_reads_one_request_per_idempotency_key_from_the_venues_events(gmx: Gmx) -> None:
    leader = gmx.flow.leader()
    gmx.follower(leader)
    done = gmx.trade(leader, gmx.dev_keeper(), asset="ETH", collateral_usd="10", leverage=1)
    s = gmx.flow.s
    report = verify(s.audit_queries, s.chain, s.venue, s.settings.max_signal_age_s)
    order_breaches = [b for b in report.breaches if "order" in b]
    assert order_breaches == []
    placed = [
        got
        for lg in s.chain.logs([s.venue.orders_filter()], 0, s.chain.block_number())
        if (got := s.venue.order_placed(lg)) is not None
    ]
    assert (done["signer_address"], done["idempotency_key"]) in placed
    assert report.figures["orders_on_chain"] == len(placed) >= 1


def test_stop_between_check_and_send_holds_the_request_and_resume_sends_its_bytes(
    gmx: Gmx,
) -> None:
    """The stop on a two-phase venue: nothing reaches the node (no request, no fee, no
    collateral leaves the wallet) until resume; then the written-ahead request goes out,
    the keeper fills it and it confirms."""
    leader = gmx.flow.leader()
    _, address = gmx.follower(leader)
    keeper = gmx.dev_keeper()
    usdc_before = _usdc(gmx, address)
    nonce_before = gmx.chain.nonce(address, "pending")  # its USDC approval came first
    body = gmx.flow.payload(leader, asset="ETH", collateral_usd="20", leverage=2, price_usd="3000")
    try:
        with paused(gmx.flow.stack.dir / "pause", "send.before_window") as point:
            gmx.flow.submit(body)
            point.wait_reached()
            (signed,) = gmx.flow.q.intents(signal_id=body["signal_id"])
            assert signed["state"] == "signed"
            gmx.flow.s.mode.stop("pytest", "drill on gmx")
        time.sleep(2)  # the worker retried meanwhile; the stop held every try
        assert gmx.state(signed["id"]) == "signed"
        assert gmx.chain.nonce(address, "pending") == nonce_before  # nothing reached the node
        assert keeper.round().keys == []  # no request on the venue
        assert _usdc(gmx, address) == usdc_before
    finally:
        gmx.flow.s.mode.resume("pytest", "drill over")
    gmx.wait(signed["id"], "mined")
    procs.wait_until(lambda: keeper.round().executed == 1, 10, "the keeper executed it")
    gmx.mine()
    done = gmx.wait(signed["id"], "confirmed")
    assert done["tx_hash"] == signed["tx_hash"]  # the bytes written ahead, not new ones
    assert position(gmx.chain, gmx.gmx, address, "ETH", True)[0] == 40 * USD * 10**24
    assert usdc_before - _usdc(gmx, address) == 20 * USD


def test_an_order_without_the_allowance_is_rejected_before_a_nonce_then_approve_lets_it_go(
    gmx: Gmx,
) -> None:
    """On real workers: the follower's allowance to GMX's Router read before signing."""
    from core.adapters.gmx.local import approve_usdc
    from core.adapters.signers.factory import resolve

    s = gmx.flow.s
    leader = gmx.flow.leader()
    fid, address = gmx.follower(leader)
    approve_usdc(gmx.chain, resolve(s.registry.follower(fid).signer_ref), 31337, gmx.gmx, 0)
    nonce = gmx.chain.nonce(address, "pending")
    refused = gmx.submitted(
        gmx.flow.payload(leader, asset="ETH", collateral_usd="10", price_usd="3000")
    )
    procs.wait_until(lambda: gmx.state(refused["id"]) == "rejected", 30, "rejected")
    row = gmx.flow.q.intent(refused["id"])
    assert row["reason"] == ("no_allowance: 0 USDC approved < 10 USDC (copytrade follower approve)")
    assert (row["nonce"], gmx.chain.nonce(address, "pending")) == (None, nonce)
    assert s.approvals.approve(s.registry.follower(fid), 100 * USD, "pytest", None).tx_hash
    traded = gmx.trade(leader, gmx.dev_keeper(), asset="ETH", collateral_usd="10", price_usd="3000")
    assert traded["nonce"] == nonce + 1  # the approval took `nonce`, as the allocator counts
