"""Real GMX v2 on an Arbitrum fork (opt-in: COPYTRADE_TEST_FORK_URL, an Arbitrum RPC; skipped
without it — this machine has no internet). `anvil --fork-url` gives GMX's own contracts at
the SDK's addresses; a follower funded with `anvil_setBalance` and a USDC balance written
into native USDC's `balances` slot approves GMX's Router with `follower approve`, and the
pipeline's request — the execution fee read from GMX's DataStore and sized for the fee
ceiling, the collateral, createOrder — is accepted by GMX (OrderCreated with our
idempotency key). Execution is GMX's keepers' (it needs their signed oracle prices, which a
fork cannot make), so the request is then cancelled by its owner (ExchangeRouter.cancelOrder)
once GMX's REQUEST_EXPIRATION_TIME has passed, and GMX refunds the collateral."""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak

from core.adapters.gmx.events import decode_event
from core.adapters.signers.local import LocalSigner
from core.adapters.venue_admin import send_and_wait
from core.domain.risk import Policy
from core.domain.signals import parse_signal
from core.domain.sizing import parse_sizing
from core.domain.types import USD, Mode
from tests.support import procs
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import settings_with

FORK_URL = os.environ.get("COPYTRADE_TEST_FORK_URL", "")
pytestmark = pytest.mark.skipif(not FORK_URL, reason="COPYTRADE_TEST_FORK_URL is not set")

USDC = "0xaf88d065e77c8cC2239327C5EDb3A432268e5831"  # native USDC (the SDK's, 6 decimals)
USDC_BALANCES_SLOT = 9  # FiatTokenV2_2: mapping(address => uint256) balanceAndBlacklistStates
MARKETS = {
    "ETH": {"market": "0x70d95587d40A2caf56bd97485aB3Eec10Bee6336", "index_decimals": 18},
}


@pytest.fixture(scope="module")
def fork(stack: Any, session_dir: Any) -> Iterator[Flow]:
    from core.bootstrap import Services

    anvil, url = procs.start_anvil(session_dir, "--fork-url", FORK_URL)
    try:
        with fresh_database("ct_fork") as db_url:
            env = {
                **stack.env,
                "COPYTRADE_DATABASE_URL": db_url,
                "COPYTRADE_RPC_URL": url,
                "COPYTRADE_CHAIN_ID": "42161",
                "COPYTRADE_VENUE": "gmx",
                "COPYTRADE_VENUE_ADDRESS": "",
                "COPYTRADE_GMX_CONTRACTS": "",  # the SDK's
                "COPYTRADE_GMX_MARKETS": json.dumps(MARKETS),
                "COPYTRADE_GMX_ORACLE_URL": "https://arbitrum-api.gmxinfra.io",
                "COPYTRADE_FEE_CEILING_WEI": str(10**9),
                "COPYTRADE_GAS_LIMIT": "3000000",
                "COPYTRADE_PROFILE": "standard",
            }
            yield Flow(stack, services=Services(settings_with(env)), env=env)
    finally:
        anvil.stop()


def decode_log(raw: dict[str, Any]) -> Any:
    return decode_event(list(raw["topics"]), bytes.fromhex(raw["data"][2:]))


def _fund_usdc(flow: Flow, address: str, amount: int) -> None:
    slot = keccak(encode(["address", "uint256"], [address, USDC_BALANCES_SLOT]))
    flow.s.chain.rpc("anvil_setStorageAt", USDC, "0x" + slot.hex(), "0x" + f"{amount:064x}")


def test_gmx_on_arbitrum_accepts_our_request_and_our_cancel_after_expiry(fork: Flow) -> None:
    s = fork.s
    key = "0x" + secrets.token_hex(32)
    os.environ["FORK_FOLLOWER_KEY"] = key  # env: signer ref, this process only
    address = LocalSigner.from_key(key).address
    s.chain.rpc("anvil_setBalance", address, hex(10**18))
    _fund_usdc(fork, address, 1_000 * 10**6)
    leader = fork.leader()
    policy = Policy(5, 10**12, frozenset({"ETH"}), parse_sizing("fixed-notional:20"), 100)
    fid = s.registry.add_follower(
        tg_user_id=1,
        leader_id=s.registry.leader_id(leader),
        signer_ref="env:FORK_FOLLOWER_KEY",
        address=address,
        policy=policy,
        in_cohort=True,
        actor="pytest",
    )
    assert s.approvals.approve(s.registry.follower(fid), 100 * USD, "pytest", None).tx_hash
    assert s.approvals.held([address])[address] == (1_000 * USD, 100 * USD)
    s.mode.request(Mode.LIVE, "pytest", "fork")
    spec = parse_signal(fork.payload(leader, asset="ETH", collateral_usd="10", leverage=2))
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    assert s.pipeline.size(pk) == (1, 0)
    s.pipeline.build(pk)
    assert s.pipeline.send(pk) == 1
    (intent,) = fork.q.intents(signal_id=spec.signal_id)
    deadline = time.monotonic() + 30
    while not s.chain.receipt_logs([intent["tx_hash"]]) and time.monotonic() < deadline:
        time.sleep(0.2)
    status, logs = s.chain.receipt_logs([intent["tx_hash"]])[intent["tx_hash"]]
    assert status == 1  # GMX accepted the fee (validateExecutionFee) and the collateral
    order_key = s.venue.request_key(logs)  # OrderCreated, from GMX's EventEmitter
    assert order_key is not None
    placed = [p for p in map(s.venue.order_placed, logs) if p is not None]
    assert [k.lower() for _, k in placed] == [intent["idempotency_key"].lower()]
    assert s.approvals.held([address])[address][0] == 990 * USD  # the collateral moved
    # No keeper fills on a fork: once GMX's expiry has passed, the owner may cancel.
    c = s.venue.cancel_after_call()
    assert c is not None
    expiry = s.venue.decode_cancel_after(s.chain.call(c.to, c.data))
    s.chain.rpc("evm_increaseTime", expiry + 1)
    s.chain.rpc("evm_mine")
    signer = LocalSigner.from_key(key)
    _, raw = send_and_wait(
        s.chain, signer, 42161, s.venue_address, s.venue.cancel_request(order_key), gas=2_000_000
    )
    names = [e.name for e in map(decode_log, raw["logs"]) if e is not None]
    assert "OrderCancelled" in names
    assert s.approvals.held([address])[address][0] == 1_000 * USD  # refunded
