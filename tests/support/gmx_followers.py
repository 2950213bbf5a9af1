"""A GMX rig for the follower tests on real workers (money guards, accounts): the local
GMX venue, a dev keeper whose fill price a test can move, USDC minted from a wallet of its
own, the CLI beside the workers."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from core.adapters.chain import Chain
from core.adapters.gmx.keeper import DevKeeper
from core.adapters.gmx.local import LocalGmx, calldata
from core.adapters.signers.factory import resolve
from core.adapters.signers.local import LocalSigner
from core.adapters.venue_admin import send_and_wait
from core.domain.types import USD
from core.domain.venue import Position
from tests.support.chain import ANVIL_KEY0, new_keystore
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.gmx import PRICES, deploy
from tests.support.procs import copytrade_cmd
from tests.support.stacks import live_worker_set


@dataclass
class Rig:
    flow: Flow
    gmx: LocalGmx
    chain: Chain
    keeper: DevKeeper
    minter: Any
    env: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            copytrade_cmd(*args), env=self.env, capture_output=True, text=True, timeout=120
        )

    def breaker(self, fid: int) -> bool:
        return self.flow.s.registry.follower(fid).circuit_breaker

    def eth(self, account: str) -> Position:
        return self.flow.position(account, "ETH")

    def mint(self, to: str, usd: int) -> None:
        """Mock USDC to `to` (anyone may mint on the local venue), from a wallet of its own
        (never a follower's key: its nonces are copytrade's)."""
        data = calldata("mint(address,uint256)", to, usd * USD)
        send_and_wait(self.chain, self.minter, 31337, self.gmx.usdc, data, gas=200_000)

    def done(self, body: dict[str, Any], timeout: float = 60) -> dict[int, dict[str, Any]]:
        """Submit; the signal's intents by follower once the signal is done."""
        self.flow.submit(body)
        self.flow.wait_done(body["signal_id"], timeout)
        return self.flow.intents(body["signal_id"])

    def open_eth(self, leader: str, collateral: str, leverage: int = 3, **kw: Any) -> Any:
        body = self.flow.payload(
            leader, asset="ETH", collateral_usd=collateral, leverage=leverage, price_usd="3000"
        )
        return self.done(body | kw)


@contextmanager
def gmx_rig(stack: Any, name: str, broker_db: int) -> Iterator[Rig]:
    """Workers on a fresh local GMX deployment and database, LIVE, one confirmation, a dev
    keeper filling every request at the fixture price moved `keeper.move_bps`."""
    chain = Chain(stack.rpc_url)
    local, overrides = deploy(chain)
    with (
        fresh_database(f"ct_{name}") as url,
        live_worker_set(
            stack, name, broker_db, url, **overrides, COPYTRADE_CONFIRMATIONS="1"
        ) as ws,
    ):
        keeper = DevKeeper(chain, LocalSigner.from_key(ANVIL_KEY0), 31337, local, PRICES, delay_s=0)
        ref, _ = new_keystore(stack.dir, chain, 10)
        with keeper.running(period_s=0.1):
            yield Rig(Flow(stack, ws.workers, services=ws.services), local, chain, keeper,
                      resolve(ref), ws.env)  # fmt: skip
