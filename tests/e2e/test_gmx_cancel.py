"""A request no keeper handles is cancelled by copytrade through the venue (decision 0021),
on real workers, anvil and the local GMX-compatible venue whose keeper never acts: once
REQUEST_EXPIRATION_TIME has passed in block time, the outcome pass creates the cancel
(leg 1, action `cancel`), the pipeline signs and sends `cancelOrder(key)` although the
signal is past its max age, and the venue's own OrderCancelled ends the request
venue_cancelled. Collateral and execution fee are back in the follower's wallet, and the
follower's next order is sized against no exposure.

The timing check is the venue's: a cancel sent before the expiry reverts
RequestNotYetCancellable, and this test then fails on the cancel's `reverted`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from eth_abi import decode

from core.adapters.chain import Chain
from core.adapters.gmx.keeper import DevKeeper
from core.adapters.gmx.local import calldata, position, set_uint
from core.adapters.signers.local import LocalSigner
from core.domain.types import USD
from tests.support import procs
from tests.support.chain import ANVIL_KEY0
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.gmx import PRICES, deploy
from tests.support.stacks import live_worker_set

EXPIRY_S = 12  # the venue's REQUEST_EXPIRATION_TIME on this deployment
MAX_AGE_S = 8  # shorter: the cancel goes out past its signal's max age, as on GMX (300 s)


class Blocks:
    """Empty blocks every 0.5 s while a test waits: block time moves as on a live chain
    (an automining anvil makes a block only for a transaction)."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            try:
                self.chain.rpc("evm_mine")
            except Exception:  # noqa: BLE001 - a missed block only slows block time
                continue

    def __enter__(self) -> Blocks:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


@pytest.fixture(scope="module")
def rig(stack: Any) -> Iterator[tuple[Flow, Any, Chain]]:
    chain = Chain(stack.rpc_url)
    local, overrides = deploy(chain)
    owner = LocalSigner.from_key(ANVIL_KEY0)
    set_uint(chain, owner, 31337, local, "REQUEST_EXPIRATION_TIME", EXPIRY_S)
    with (
        fresh_database("ct_gmx_cancel") as url,
        live_worker_set(
            stack,
            "gmx-cancel",
            18,
            url,
            **overrides,
            COPYTRADE_CONFIRMATIONS="2",
            COPYTRADE_MAX_SIGNAL_AGE_S=str(MAX_AGE_S),
        ) as ws,
    ):
        yield Flow(stack, ws.workers, services=ws.services), local, chain


def _eth(chain: Chain, address: str) -> int:
    return int(chain.rpc("eth_getBalance", address, "latest"), 16)


def _usdc(chain: Chain, usdc: str, address: str) -> int:
    (units,) = decode(["uint256"], chain.call(usdc, calldata("balanceOf(address)", address)))
    return int(units)


def _gas_paid(chain: Chain, tx_hash: str) -> int:
    r = chain.rpc("eth_getTransactionReceipt", tx_hash)
    return int(r["gasUsed"], 16) * int(r["effectiveGasPrice"], 16)


def _block_time(chain: Chain, number: int) -> int:
    return int(chain.rpc("eth_getBlockByNumber", hex(number), False)["timestamp"], 16)


def test_a_request_no_keeper_handles_is_cancelled_by_copytrade_after_the_venues_expiry(
    rig: tuple[Flow, Any, Chain],
) -> None:
    flow, local, chain = rig
    leader = flow.leader()
    # Room for one 1,000 USD position: the next open would be refused while the
    # cancelled request still counted.
    _, address = flow.follower(leader, max_position_usd_1e6=1_000 * USD)
    eth_before, usdc_before = _eth(chain, address), _usdc(chain, local.usdc, address)
    never = DevKeeper(chain, LocalSigner.from_key(ANVIL_KEY0), 31337, local, PRICES, 0, "never")

    body = flow.payload(leader, asset="BTC", collateral_usd="500", leverage=2)
    flow.submit(body)
    sid = body["signal_id"]

    def mine(state: str, action: str, timeout: float = 60) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            rows = [i for i in flow.q.intents(signal_id=sid) if i["action"] == action]
            return rows[0] if rows and rows[0]["state"] == state else None

        try:
            procs.wait_until(found, timeout, f"the {action} intent {state}")
        except TimeoutError as exc:
            logs = "\n".join(w.text()[-3000:] for w in flow.workers)
            raise TimeoutError(f"{exc}: {flow.q.intents(signal_id=sid)}\n{logs}") from exc
        got = found()
        assert got is not None
        return got

    with never.running(period_s=0.2), Blocks(chain):
        request = mine("mined", "open")
        assert _usdc(chain, local.usdc, address) == usdc_before - 500 * 10**6  # in the vault
        cancel = mine("confirmed", "cancel", timeout=EXPIRY_S + 60)
        cancelled = mine("venue_cancelled", "open")

    # (`request` was read when it became mined: its order key may have come a pass later)
    assert cancelled["id"] == request["id"]
    assert cancelled["reason"].startswith("venue_cancelled: ")
    assert cancel["venue_order_key"] == cancelled["venue_order_key"]
    assert cancel["signer_address"] == cancelled["signer_address"]
    assert cancel["nonce"] == cancelled["nonce"] + 1
    # Sent once the venue allowed it, in block time (the venue checked; it mined, not reverted).
    waited = _block_time(chain, cancel["block_number"]) - _block_time(
        chain, cancelled["block_number"]
    )
    assert waited >= EXPIRY_S
    # Collateral and execution fee back: the wallet is short only the two transactions' gas.
    assert _usdc(chain, local.usdc, address) == usdc_before
    spent = _gas_paid(chain, cancelled["tx_hash"]) + _gas_paid(chain, cancel["tx_hash"])
    assert eth_before - _eth(chain, address) == spent
    assert position(chain, local, address, "BTC", True) == (0, 0, 0)

    # The next order is sized against no exposure (the cancelled request counts nothing).
    again = flow.payload(leader, asset="BTC", collateral_usd="500", leverage=2)
    flow.submit(again)
    procs.wait_until(
        lambda: [i for i in flow.q.intents(signal_id=again["signal_id"]) if i["state"] == "mined"],
        60,
        "the next open mined",
    )
    (nxt,) = flow.q.intents(signal_id=again["signal_id"])
    assert nxt["notional_usd_1e6"] == 1_000 * USD
