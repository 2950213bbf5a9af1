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


def _follower(fork: Flow, leader: str, tg: int, ref: str, address: str, **extra: Any) -> int:
    policy = Policy(5, 10**12, frozenset({"ETH"}), parse_sizing("fixed-notional:20"), 100)
    return int(
        fork.s.registry.add_follower(
            tg_user_id=tg,
            leader_id=fork.s.registry.leader_id(leader),
            signer_ref=ref,
            address=address,
            policy=policy,
            in_cohort=True,
            actor="pytest",
            **extra,
        )
    )


def _requested(fork: Flow, leader: str, fid: int) -> tuple[dict[str, Any], list[Any]]:
    """One signal of `leader` run through the pipeline here, LIVE: the follower's intent
    and its request's receipt logs (mined successfully)."""
    s = fork.s
    s.mode.request(Mode.LIVE, "pytest", "fork")
    spec = parse_signal(fork.payload(leader, asset="ETH", collateral_usd="10", leverage=2))
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    assert s.pipeline.size(pk) == (1, 0)
    s.pipeline.build(pk)
    assert s.pipeline.send(pk) == 1
    (intent,) = [i for i in fork.q.intents(signal_id=spec.signal_id) if i["follower_id"] == fid]
    deadline = time.monotonic() + 30
    while not s.chain.receipt_logs([intent["tx_hash"]]) and time.monotonic() < deadline:
        time.sleep(0.2)
    status, logs = s.chain.receipt_logs([intent["tx_hash"]])[intent["tx_hash"]]
    assert status == 1  # GMX accepted the fee (validateExecutionFee) and the collateral
    return intent, logs


def test_gmx_on_arbitrum_accepts_our_request_and_our_cancel_after_expiry(fork: Flow) -> None:
    s = fork.s
    key = "0x" + secrets.token_hex(32)
    os.environ["FORK_FOLLOWER_KEY"] = key  # env: signer ref, this process only
    address = LocalSigner.from_key(key).address
    s.chain.rpc("anvil_setBalance", address, hex(10**18))
    _fund_usdc(fork, address, 1_000 * 10**6)
    leader = fork.leader()
    fid = _follower(fork, leader, 1, "env:FORK_FOLLOWER_KEY", address)
    assert s.approvals.approve(s.registry.follower(fid), 100 * USD, "pytest", None).tx_hash
    assert s.approvals.held([address])[address] == (1_000 * USD, 100 * USD)
    intent, logs = _requested(fork, leader, fid)
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


def test_gmx_on_arbitrum_takes_a_subaccount_request_for_the_wallet_and_refuses_another_receiver(
    fork: Flow,
) -> None:
    """GMX's own SubaccountRouter: the wallet's one-time calls (`follower subaccount-setup`),
    then the pipeline's request through the subaccount is the wallet's order with the
    wallet's collateral; a request for any other receiver is refused by GMX."""
    from core.adapters.gmx import codec
    from core.adapters.gmx import subaccounts as standing
    from core.domain.errors import ChainError
    from core.domain.types import Action
    from core.domain.venue import OrderCall

    s = fork.s
    wallet = LocalSigner.from_key("0x" + secrets.token_hex(32))
    sub_key = "0x" + secrets.token_hex(32)
    os.environ["FORK_SUBACCOUNT_KEY"] = sub_key  # env: signer ref, this process only
    sub = LocalSigner.from_key(sub_key).address
    for who in (wallet.address, sub):
        s.chain.rpc("anvil_setBalance", who, hex(10**18))
    _fund_usdc(fork, wallet.address, 1_000 * 10**6)
    router = s.gmx.subaccount_router
    expires_at = s.chain.head_time() + 3600
    for c in s.venue.subaccount_setup_calls(sub, 10, expires_at):
        send_and_wait(s.chain, wallet, 42161, c.to, c.data, gas=2_000_000)
    approve = s.venue.approve_call(100 * USD)
    assert approve is not None
    send_and_wait(s.chain, wallet, 42161, approve.to, approve.data, gas=200_000)
    found = s.venue.decode_subaccount(s.chain.calls(s.venue.subaccount_calls(wallet.address, sub)))
    assert (found.authorized, found.actions_used, found.max_actions) == (True, 0, 10)

    leader = fork.leader()
    sub_ref = "env:FORK_SUBACCOUNT_KEY"
    fid = _follower(fork, leader, 2, sub_ref, sub, subaccount_of=wallet.address)
    _, logs = _requested(fork, leader, fid)
    placed = [p for p in map(s.venue.order_placed, logs) if p is not None]
    assert [a.lower() for a, _ in placed] == [wallet.address.lower()]  # the wallet's order
    assert s.approvals.held([wallet.address])[wallet.address][0] == 990 * USD
    found = s.venue.decode_subaccount(s.chain.calls(s.venue.subaccount_calls(wallet.address, sub)))
    assert found.actions_used == 1

    # The same request for another receiver: GMX refuses it.
    fee = int(s.pipeline.terms.get().execution_fee(True, s.settings.fee_ceiling_wei))
    other = LocalSigner.from_key("0x" + secrets.token_hex(32)).address
    o = OrderCall(
        Action.OPEN, "ETH", True, 10 * USD, 2, 10_000 * USD, b"\1" * 32, wallet.address,
        execution_fee_wei=fee, by_subaccount=True,
    )  # fmt: skip
    data = s.venue.encode_order(o)
    calls = codec.decode_multicall(data) or []
    params = standing.create_params(calls[-1])
    assert params is not None
    params["addresses"]["receiver"] = other
    params["addresses"]["cancellationReceiver"] = other
    bad = codec.multicall([calls[0], codec.subaccount_create_order(wallet.address, params)])
    with pytest.raises(ChainError):
        s.chain.call(router, bad, sender=sub, value=fee, gas_price=10**9, gas=3_000_000)
