"""`copytrade dev gmx-deploy` and `copytrade dev keeper` on the session's anvil: the
deployment it writes and the settings it prints point copytrade at a working local GMX
venue, the keeper fills a request there, and both refuse a chain that is not a dev one."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from core.adapters.chain import Chain
from core.adapters.gmx.configure import gmx_config
from core.adapters.gmx.local import LocalGmx, fund_followers, pending_orders
from core.adapters.gmx.venue import GmxVenue
from core.adapters.signers.local import LocalSigner
from core.domain import fees
from core.domain.attempts import TxSpec
from core.domain.types import USD, Action
from core.domain.venue import OrderCall
from tests.support.chain import ANVIL_KEY0

PRICES = json.dumps({"ETH": 3_000 * USD, "BTC": 100_000 * USD})


def dev(stack: Any, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", "dev", *args],
        env={**stack.env, "DEV_KEY": ANVIL_KEY0, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_prints_settings_that_work_and_the_keeper_fills_a_request(
    stack: Any, tmp_path: Path
) -> None:
    out = tmp_path / "gmx.json"
    done = dev(stack, "gmx-deploy", "--signer", "env:DEV_KEY", "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    settings = json.loads(done.stdout)
    assert settings["COPYTRADE_VENUE"] == "gmx"
    gmx = LocalGmx(**json.loads(out.read_text()))
    chain = Chain(stack.rpc_url)
    assert chain.rpc("eth_getCode", gmx.exchange_router, "latest") not in ("0x", "0x0")

    # A follower's request built from the printed settings, as copytrade would send it.
    cfg = gmx_config(31337, settings["COPYTRADE_GMX_CONTRACTS"], settings["COPYTRADE_GMX_MARKETS"])
    follower = LocalSigner.from_key(secrets.token_hex(32))
    chain.rpc("anvil_setBalance", follower.address, hex(10**19))
    fund_followers(chain, LocalSigner.from_key(ANVIL_KEY0), 31337, gmx, [follower], 100 * USD)
    venue = GmxVenue(cfg)
    terms = venue.decode_terms(chain.calls(venue.terms_calls()))
    fee = terms.execution_fee(True, 500 * 10**9)  # sized for a 500 gwei fee ceiling
    order = OrderCall(
        Action.OPEN, "ETH", True, 10 * USD, 2, 3_100 * USD, b"\1" * 32, follower.address, None, fee
    )
    data = venue.encode_order(order)
    _send_with_value(chain, follower, cfg.exchange_router, data, venue.order_value(data))
    assert len(pending_orders(chain, gmx)) == 1

    keeper = dev(
        stack,
        "keeper",
        "--signer",
        "env:DEV_KEY",
        "--deployment",
        str(out),
        "--delay-s",
        "0",
        "--rounds",
        "2",
        COPYTRADE_GMX_PRICES=PRICES,
    )
    assert keeper.returncode == 0, keeper.stderr
    assert pending_orders(chain, gmx) == []  # executed (from the first block: it saw it)


def test_dev_commands_refuse_a_chain_that_is_not_a_dev_one(stack: Any, tmp_path: Path) -> None:
    done = dev(
        stack,
        "gmx-deploy",
        "--signer",
        "env:DEV_KEY",
        "--out",
        str(tmp_path / "x.json"),
        COPYTRADE_CHAIN_ID="42161",
    )
    assert done.returncode != 0
    assert "local dev chain only" in done.stderr
    assert not (tmp_path / "x.json").exists()


def _send_with_value(chain: Chain, signer: LocalSigner, to: str, data: bytes, value: int) -> None:
    base, rewards = chain.fee_history()
    nonce = chain.nonce(signer.address, "pending")
    spec = TxSpec(31337, nonce, fees.suggest(base, rewards), to, data, 3_000_000, value)
    signed = signer.sign_transaction(spec.as_dict())
    (outcome,) = chain.send_raw([signed.raw])
    assert outcome.accepted, outcome.message
    for _ in range(200):
        if chain.receipts([signed.tx_hash]):
            assert chain.receipts([signed.tx_hash])[signed.tx_hash].status == 1
            return
        time.sleep(0.05)
    raise AssertionError("request not mined")
