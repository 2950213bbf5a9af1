"""The local GMX-compatible venue for a worker set: deployed on the session's anvil, the
settings that point copytrade at it, followers funded with its mock USDC and approved to
its router, and (optionally) a dev keeper filling every request in the background."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.adapters.chain import Chain
from core.adapters.gmx.keeper import DevKeeper
from core.adapters.gmx.local import LocalGmx, calldata, deploy_local_gmx, settings_for
from core.adapters.signers.factory import resolve
from core.adapters.signers.local import LocalSigner
from core.adapters.venue_admin import send_and_wait
from core.domain.types import USD
from tests.support.chain import ANVIL_KEY0
from tests.support.databases import fresh_database
from tests.support.stacks import WorkerSet, live_worker_set

PRICES = {"BTC": 100_000 * USD, "ETH": 3_000 * USD}
FUNDS = 100_000 * USD  # each follower's mock USDC


def deploy(chain: Chain) -> tuple[LocalGmx, dict[str, str]]:
    """A fresh deployment (its own event emitter: its keeper sees only its own requests)
    and the COPYTRADE_* overrides for a worker set on it."""
    local = deploy_local_gmx(chain, LocalSigner.from_key(ANVIL_KEY0), 31337, {"BTC": 8, "ETH": 18})
    env = {
        **settings_for(local),
        "COPYTRADE_VENUE_ADDRESS": "",
        "COPYTRADE_GMX_PRICES": json.dumps(PRICES),
        "COPYTRADE_GAS_LIMIT": "3000000",
    }
    return local, env


def request_fee(s: Any, increase: bool = True) -> int:
    """The execution fee a request of these services carries: the venue's adjusted gas at
    the fee ceiling (decision 0022)."""
    return int(s.pipeline.terms.get().execution_fee(increase, s.settings.fee_ceiling_wei))


def fund_follower(s: Any, signer_ref: str) -> None:
    """The follower mints itself mock USDC (anyone may, on the local venue) and approves
    GMX's router for it: what a real follower does once before its first order."""
    signer = resolve(signer_ref)
    chain_id = s.settings.chain_id
    usdc, router = s.gmx.usdc, s.gmx.router
    send_and_wait(
        s.chain,
        signer,
        chain_id,
        usdc,
        calldata("mint(address,uint256)", signer.address, FUNDS),
        gas=200_000,
    )
    send_and_wait(
        s.chain,
        signer,
        chain_id,
        usdc,
        calldata("approve(address,uint256)", router, FUNDS),
        gas=200_000,
    )


@contextmanager
def keeper_running(chain: Chain, local: LocalGmx) -> Iterator[DevKeeper]:
    """A dev keeper executing every request of `local` as soon as it sees it."""
    keeper = DevKeeper(chain, LocalSigner.from_key(ANVIL_KEY0), 31337, local, PRICES, delay_s=0)
    with keeper.running(period_s=0.1):
        yield keeper


@contextmanager
def kept_worker_set(stack: Any, name: str, broker_db: int, **extra: Any) -> Iterator[WorkerSet]:
    """A worker set on a fresh GMX deployment and database, LIVE, with a dev keeper filling
    every request: what a safety suite written for the simple router runs on as well."""
    chain = Chain(stack.rpc_url)
    local, overrides = deploy(chain)
    with (
        fresh_database(f"ct_{name.replace('-', '_')}") as url,
        live_worker_set(stack, name, broker_db, url, **overrides, **extra) as ws,
        keeper_running(chain, local),
    ):
        yield ws
