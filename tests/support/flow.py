"""Set-up and waiting helpers for tests that drive the real pipeline."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from core.adapters.postgres.reads.queries import Queries
from core.domain.risk import Policy
from core.domain.sizing import parse_sizing
from core.domain.venue import Position
from tests.support.chain import new_keystore, random_address
from tests.support.gmx import fund_follower


class Flow:
    def __init__(
        self,
        stack: Any,
        workers: list[Any] | None = None,
        services: Any = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.stack = stack
        self.workers = workers or []
        self.s = services or stack.services()
        self.env = env or stack.env  # what a `copytrade` command run beside these workers sees
        self.q = Queries(self.s.db)

    def leader(self) -> str:
        address = random_address()
        self.s.registry.add_leader(address, "pytest")
        return address

    def follower(
        self,
        leader: str,
        *,
        max_leverage: int = 10,
        max_position_usd_1e6: int = 10**12,
        assets: str = "BTC,ETH",
        sizing: str = "ratio:1",
        paused: bool = False,
        circuit_breaker: bool = False,
        slippage_bps: int = 50,
        eth: int = 10,
        signer: tuple[str, str] | None = None,
        account_id: int | None = None,
    ) -> tuple[int, str]:
        """A follower of `leader` with its own new key, or with `signer` (ref, address) of
        another follower: two followers sharing a wallet."""
        ref, address = signer or new_keystore(self.stack.dir, self.s.chain, eth)
        if self.s.settings.venue == "gmx" and signer is None:
            fund_follower(self.s, ref)  # USDC and the router's allowance, as a user would
        policy = Policy(
            max_leverage,
            max_position_usd_1e6,
            frozenset(assets.split(",")),
            parse_sizing(sizing),
            slippage_bps,
        )
        lid = self.s.registry.leader_id(leader)
        fid = self.s.registry.add_follower(
            tg_user_id=1000 + len(address),
            leader_id=lid,
            signer_ref=ref,
            address=address,
            policy=policy,
            in_cohort=True,
            actor="pytest",
            account_id=account_id,
        )
        if paused or circuit_breaker:
            self.s.registry.set_follower_flags(
                fid, "pytest", None, paused=paused, circuit_breaker=circuit_breaker
            )
        return fid, address

    def payload(
        self,
        leader: str,
        action: str = "open",
        asset: str = "BTC",
        side: str = "long",
        collateral_usd: str = "100",
        leverage: int = 5,
        price_usd: str | None = "100000",
        signal_id: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "schema": 1,
            "signal_id": signal_id or f"t-{uuid.uuid4().hex}",
            "leader": leader,
            "action": action,
            "asset": asset,
            "side": side,
            "collateral_usd_1e6": int(Decimal(collateral_usd) * 10**6),
            "leverage_x": leverage,
        }
        if price_usd is not None:
            body["price_usd_1e6"] = int(Decimal(price_usd) * 10**6)
        return body

    def submit(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.s.intake.submit(payload, source="test").as_dict()

    def wait_done(self, signal_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sig = self.q.signal(signal_id)
            if sig["state"] in ("done", "rejected"):
                return sig
            time.sleep(0.1)
        raise TimeoutError(f"signal {signal_id} not done: {self.q.signal(signal_id)}")

    def intents(self, signal_id: str) -> dict[int, dict[str, Any]]:
        """By follower id."""
        return {r["follower_id"]: r for r in self.q.intents(signal_id=signal_id)}

    def position(self, trader: str, asset: str = "BTC") -> Position:
        """The trader's position read back from the venue (either venue, by its port)."""
        c = self.s.venue.position_call(trader, asset)
        return self.s.venue.decode_position(asset, self.s.chain.call(c.to, c.data))

    def run_task(self, name: str, *args: Any, timeout: float = 30) -> str:
        """Enqueue a task by name on the real broker and wait until a worker logs that it
        finished: succeeded, or ignored (a step that stopped its chain: Celery's Ignore);
        returns the task id."""
        # no result kept: the worker's log says it finished (nothing subscribes)
        task_id = self.s.intake.dispatcher.app.send_task(name, args=args, ignore_result=True).id
        done = (f"{name}[{task_id}] succeeded", f"{name}[{task_id}] ignored")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(n in w.text() for w in self.workers for n in done):
                return task_id
            time.sleep(0.05)
        raise TimeoutError(f"{name}[{task_id}] did not succeed within {timeout}s")


@contextmanager
def own_flow(stack: Any, prefix: str, **env: str) -> Iterator[Flow]:
    """Services on a fresh database of their own (no worker reads it: the test drives the
    services itself), with `env` over the stack's settings; disposed and dropped after."""
    from core.bootstrap import Services
    from tests.support.databases import fresh_database
    from tests.support.stacks import settings_with

    with fresh_database(prefix) as url:
        full = {**stack.env, "COPYTRADE_DATABASE_URL": url, **env}
        s = Services(settings_with(full))
        try:
            yield Flow(stack, services=s, env=full)
        finally:
            s.db.dispose()
