"""Follower accounts (one wallet copying several leaders) sized on the real PostgreSQL, step
by step in this process: two leaders' signals for one account at once — the first held at
`size.before_commit` with its locks — cannot both pass an account limit only one fits; the
following's and the account's limits each bind with their own reason; opposite sides per
the account's rule and what the venue allows."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from core.adapters.postgres.tables import intents
from core.domain.accounts import AccountLimits
from core.domain.signals import parse_signal
from core.domain.types import USD
from tests.support.chain import new_keystore
from tests.support.flow import Flow, own_flow
from tests.support.pauses import paused
from tests.support.procs import copytrade_cmd


@pytest.fixture
def flow(stack: Any) -> Iterator[Flow]:
    with own_flow(stack, "ct_accounts", COPYTRADE_PROFILE="standard") as f:
        yield f


def account_of(flow: Flow, *leaders: str, **policy: Any) -> tuple[int, list[int]]:
    """One account (one key) following each of `leaders`: (account id, following ids)."""
    key = new_keystore(flow.stack.dir, flow.s.chain, 1)
    first, _ = flow.follower(leaders[0], signer=key, **policy)
    account = flow.s.registry.follower(first).account_id
    rest = [
        flow.follower(lead, signer=key, account_id=account, **policy)[0] for lead in leaders[1:]
    ]
    return account, [first, *rest]


def limit(flow: Flow, account: int, **limits: Any) -> None:
    flow.s.accounts.set_limits(account, AccountLimits(**limits), "pytest", None)


def signal(flow: Flow, leader: str, **kw: Any) -> int:
    body = flow.payload(leader, **{"collateral_usd": "100", "leverage": 1, **kw})
    s = flow.s
    _, pk = s.signals.insert_signal(parse_signal(body), s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    return pk


def outcome(flow: Flow, pk: int) -> tuple[str, str | None]:
    with flow.s.db.tx() as conn:
        row = conn.execute(
            select(intents.c.state, intents.c.reason).where(intents.c.signal_pk == pk)
        ).one()
    return row.state, row.reason


def test_two_leaders_at_once_only_what_fits_the_account_passes(flow: Flow) -> None:
    a, b = flow.leader(), flow.leader()
    account, _ = account_of(flow, a, b)
    limit(flow, account, max_position_usd_1e6=150 * USD)  # one 100 USD order fits, not two
    first, second = signal(flow, a), signal(flow, b)
    done: list[int] = []
    with paused(flow.stack.dir / "pause", "size.before_commit") as point:
        t1 = threading.Thread(target=lambda: flow.s.pipeline.size(first))
        t1.start()
        point.wait_reached()  # decided, its locks held, not committed
        t2 = threading.Thread(target=lambda: done.append(flow.s.pipeline.size(second)[0]))
        t2.start()
        t2.join(1.5)
        assert done == []  # the account's lock holds the second leader's sizing
        point.release()
        t1.join(30)
        t2.join(30)
    assert outcome(flow, first) == ("created", None)
    assert outcome(flow, second) == ("rejected", "account_max_position")


def test_the_followings_and_the_accounts_limits_each_bind_with_their_own_reason(
    flow: Flow,
) -> None:
    a, b, c, d, e = (flow.leader() for _ in range(5))
    account, (_, fb, *_) = account_of(flow, a, b, c, d, e)
    policy = flow.s.registry.follower(fb).policy
    flow.s.registry.set_policy(fb, replace(policy, max_position_usd_1e6=90 * USD), "pytest", None)
    limit(flow, account, max_position_usd_1e6=300 * USD, max_total_usd_1e6=350 * USD)

    def sized(leader: str, **kw: Any) -> tuple[str, str | None]:
        pk = signal(flow, leader, **kw)
        flow.s.pipeline.size(pk)
        return outcome(flow, pk)

    assert sized(a, collateral_usd="200") == ("created", None)
    # b's own limit (90) binds before the account's
    assert sized(b, collateral_usd="100") == ("rejected", "max_position")
    # the account's per asset: a's 200 + 150 > 300 (c alone is within its own limit)
    assert sized(c, collateral_usd="150") == ("rejected", "account_max_position")
    # the account's total: 200 BTC + 160 ETH > 350 (ETH alone is within 300)
    eth = {"asset": "ETH", "price_usd": "3000"}
    assert sized(d, collateral_usd="160", **eth) == ("rejected", "account_max_total")
    limit(flow, account, assets=frozenset({"BTC"}))
    assert sized(e, collateral_usd="1", **eth) == ("rejected", "account_asset_not_allowed")


# The simple venue keeps one position per asset: `hedge` is what it allows, so the later is
# rejected under either rule (GMX keeps both under hedge: tests/e2e/test_accounts_gmx.py).
RULES = [("hedge", ("rejected", "opposite_side")), ("reject", ("rejected", "opposite_side"))]


@pytest.mark.parametrize(("rule", "expected"), RULES)
def test_opposite_sides_follow_the_accounts_rule(
    flow: Flow, rule: str, expected: tuple[str, str | None]
) -> None:
    a, b, c = flow.leader(), flow.leader(), flow.leader()
    account, _ = account_of(flow, a, b, c)
    limit(flow, account, opposite_sides=rule)
    flow.s.pipeline.size(signal(flow, a, side="long"))
    pk = signal(flow, b, side="short")
    flow.s.pipeline.size(pk)
    state, reason = outcome(flow, pk)
    assert (state, (reason or "").split(":")[0] or None) == expected
    same_side = signal(flow, c, side="long")  # the same side is never an opposite
    flow.s.pipeline.size(same_side)
    assert outcome(flow, same_side) == ("created", None)


def test_the_cli_adds_a_following_to_an_account_and_sets_its_limits(flow: Flow) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(copytrade_cmd(*args), env=flow.env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip

    a, b, c = flow.leader(), flow.leader(), flow.leader()
    first, _ = flow.follower(a)
    account = flow.s.registry.follower(first).account_id
    common = ("--max-leverage", "5", "--max-position-usd", "100", "--assets", "BTC",
              "--sizing", "ratio:1")  # fmt: skip
    added = cli("follower", "add", "--account", str(account), "--leader", b, *common, "--json")
    assert added.returncode == 0, added.stderr
    second = json.loads(added.stdout)
    assert second["account_id"] == account
    assert (
        flow.s.registry.follower(second["id"]).signer_ref
        == flow.s.registry.follower(first).signer_ref
    )  # the account's key

    again = cli("follower", "add", "--account", str(account), "--leader", b, *common)
    assert again.returncode == 2
    assert "copies this leader already" in again.stderr
    ref, _ = new_keystore(flow.stack.dir, flow.s.chain, 1)
    other = cli("follower", "add", "--account", str(account), "--leader", c, "--signer", ref,
                *common)  # fmt: skip
    assert other.returncode == 2
    assert f"account {account} is the wallet" in other.stderr

    limits = cli("account", "set-limits", str(account), "--max-total-usd", "500",
                 "--opposite-sides", "reject", "--assets", "btc,eth")  # fmt: skip
    assert limits.returncode == 0, limits.stderr
    assert cli("account", "set-limits", str(account), "--opposite-sides", "net").returncode == 2
    listed = json.loads(cli("account", "list", "--json").stdout)
    (mine,) = [r for r in listed if r["id"] == account]
    assert (mine["max_total_usd_1e6"], mine["opposite_sides"], mine["assets"]) == (
        500 * USD, "reject", ["BTC", "ETH"]
    )  # fmt: skip
    assert [f["follower"] for f in mine["followings"]] == [first, second["id"]]
