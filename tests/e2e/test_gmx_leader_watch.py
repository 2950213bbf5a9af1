"""Following a GMX leader fill by fill, on real workers, anvil and the local GMX venue: the
leader's own requests, executed by the dev keeper, are watched as executions (not as
requests); three followers on different sizing rules mirror every step — an increase by
their rule, a partial close in proportion to their own position — and are read back from
the venue at every step; a liquidation of the leader closes them, with its cause; a
follower's position changed outside copytrade is decreased by its share of what is left."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core.adapters.chain import Chain
from core.adapters.gmx import local
from core.adapters.gmx.local import LocalGmx
from core.adapters.postgres.tables import signals
from core.adapters.signers.local import LocalSigner
from core.domain.leader_fills import fraction_of, proportional
from core.domain.types import USD
from tests.support import procs
from tests.support.chain import ANVIL_KEY0
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.gmx import PRICES, deploy, keeper_running
from tests.support.localgmx import MARKET_DECREASE, MARKET_INCREASE, create_order, order_params
from tests.support.stacks import live_worker_set

RAW = 10**24  # GMX's USD (30 decimals) per micro-USD
RULES = ("ratio:0.5", "fixed-notional:150", "ratio:0.2")


@dataclass
class Rig:
    flow: Flow
    chain: Chain
    gmx: LocalGmx
    keeper: LocalSigner

    def leader(self) -> LocalSigner:
        """A registered leader with ETH, mock USDC and the router's allowance."""
        signer = LocalSigner.from_key("0x" + secrets.token_hex(32))
        self.chain.rpc("anvil_setBalance", signer.address, hex(10 * 10**18))
        local.fund_usdc(self.chain, self.keeper, 31337, self.gmx, signer.address, 10_000 * USD)
        local.approve_usdc(self.chain, signer, 31337, self.gmx, 10_000 * USD)
        self.flow.s.registry.add_leader(signer.address, "pytest", self.chain.block_number())
        return signer

    def followers(self, leader: LocalSigner) -> list[str]:
        return [self.flow.follower(leader.address, sizing=r)[1] for r in RULES]

    def size(self, account: str) -> int:
        return local.position(self.chain, self.gmx, account, "ETH", True)[0]

    def trade(
        self, leader: LocalSigner, increase: bool, size_usd: int, collateral_usd: int
    ) -> None:
        """The leader's own request; the dev keeper executes it."""
        before = self.size(leader.address)
        kind = MARKET_INCREASE if increase else MARKET_DECREASE
        acceptable = 3_100 * USD if increase else 2_900 * USD
        params = order_params(
            self.gmx, leader.address, kind, size_usd, collateral_usd * USD, acceptable
        )
        create_order(self.chain, self.gmx, leader, params)
        procs.wait_until(lambda: self.size(leader.address) != before, 20, "the leader's fill")

    def settle(self, expected: dict[str, int], timeout: float = 60) -> None:
        """Each follower's position on the venue reaches its expected size (raw units)."""
        try:
            procs.wait_until(
                lambda: all(self.size(a) == want for a, want in expected.items()),
                timeout,
                "followers at their targets",
            )
        except TimeoutError as exc:
            got = {a: self.size(a) / (USD * RAW) for a in expected}
            want = {a: w / (USD * RAW) for a, w in expected.items()}
            logs = "\n".join(w.text()[-2000:] for w in self.flow.workers)
            raise TimeoutError(f"{exc}: venue {got}, expected {want}\n{logs}") from exc

    def signal_rows(self, leader: LocalSigner) -> list[Any]:
        lid = self.flow.s.registry.leader_id(leader.address)
        with self.flow.s.db.tx() as conn:
            return list(
                conn.execute(
                    select(signals).where(signals.c.leader_id == lid).order_by(signals.c.id)
                )
            )


@pytest.fixture(scope="module")
def rig(stack: Any) -> Iterator[Rig]:
    chain = Chain(stack.rpc_url)
    gmx, overrides = deploy(chain)
    with (
        fresh_database("ct_gmx_leaders") as url,
        live_worker_set(
            stack, "gmx-leaders", 22, url, **overrides, COPYTRADE_LEADER_POLL_S="0.25"
        ) as ws,
        keeper_running(chain, gmx),
    ):
        flow = Flow(stack, ws.workers, services=ws.services, env=ws.env)
        yield Rig(flow, chain, gmx, LocalSigner.from_key(ANVIL_KEY0))


def opened(collateral_usd: int, leverage: int, rule: str) -> int:
    """A follower's open or increase by its rule, raw (the leader's collateral, leverage)."""
    kind, _, value = rule.partition(":")
    if kind == "ratio":
        collateral = int(collateral_usd * USD * Decimal(value)) // 10_000 * 10_000
    else:
        collateral = int(value) * USD // leverage // 10_000 * 10_000
    return collateral * leverage * RAW


def test_open_close_30_add_close_50_close_mirrored_in_proportion_at_every_step(rig: Rig) -> None:
    leader = rig.leader()
    followers = rig.followers(leader)
    want = {a: 0 for a in followers}

    def step(increase: bool, size_usd: int, collateral_usd: int) -> None:
        held_before = rig.size(leader.address)
        rig.trade(leader, increase, size_usd, collateral_usd)
        for a, rule in zip(followers, RULES, strict=True):
            if increase:
                want[a] += opened(collateral_usd, size_usd // collateral_usd, rule)
            else:
                f = fraction_of(size_usd * USD * RAW, held_before)
                want[a] -= proportional(want[a], f)
        rig.settle(want)

    step(True, 1_000, 200)  # open: 500 / 150 / 200
    assert [want[a] // (USD * RAW) for a in followers] == [500, 150, 200]
    step(False, 300, 0)  # 30% closed
    assert [want[a] // (USD * RAW) for a in followers] == [350, 105, 140]
    step(True, 500, 100)  # add, by each follower's rule
    step(False, 600, 0)  # 50% of 1,200
    assert [want[a] * 2 // (USD * RAW) for a in followers] == [600, 255, 240]
    step(False, 600, 0)  # the rest: a close, no dust left
    assert all(rig.size(a) == 0 for a in followers)

    rows = rig.signal_rows(leader)
    assert [r.action for r in rows] == ["open", "decrease", "increase", "decrease", "close"]
    assert [r.fraction_1e18 for r in rows] == [None, 3 * 10**17, None, 5 * 10**17, None]
    for r in rows:  # each execution copied once: one intent per follower, all filled
        assert rig.flow.wait_done(r.signal_id)["state"] == "done"
        intents = rig.flow.intents(r.signal_id)
        assert len(intents) == len(followers)
        assert {i["state"] for i in intents.values()} <= {"executed", "confirmed"}


def test_a_liquidation_of_the_leader_closes_its_followers_with_the_cause(rig: Rig) -> None:
    leader = rig.leader()
    followers = rig.followers(leader)
    rig.trade(leader, True, 1_000, 200)
    rig.settle({a: opened(200, 5, r) for a, r in zip(followers, RULES, strict=True)})

    local.keeper_forced_decrease(
        rig.chain, rig.keeper, 31337, rig.gmx, leader.address, "ETH", True, PRICES["ETH"]
    )
    rig.settle({a: 0 for a in followers})
    last = rig.signal_rows(leader)[-1]
    assert (last.action, last.cause) == ("close", "liquidation")
    assert rig.flow.wait_done(last.signal_id)["state"] == "done"


def test_a_follower_changed_outside_copytrade_is_decreased_by_its_share_of_what_is_left(
    rig: Rig,
) -> None:
    leader = rig.leader()
    followers = rig.followers(leader)
    rig.trade(leader, True, 1_000, 200)
    want = {a: opened(200, 5, r) for a, r in zip(followers, RULES, strict=True)}
    rig.settle(want)
    # The venue auto-deleverages 100 USD of the first follower's 500: not through copytrade.
    first = followers[0]
    local.keeper_forced_decrease(
        rig.chain,
        rig.keeper,
        31337,
        rig.gmx,
        first,
        "ETH",
        True,
        PRICES["ETH"],
        size_delta_raw=100 * USD * RAW,
        adl=True,
    )
    want[first] = 400 * USD * RAW
    assert rig.size(first) == want[first]

    rig.trade(leader, False, 500, 0)  # half
    rig.settle({a: w - w // 2 for a, w in want.items()})  # 200 left of 400, not 250 of 500
    assert rig.size(first) == 200 * USD * RAW
