"""GMX subaccounts from the command line, on the local venue: `follower add --subaccount-of`
(or `--signer subaccount:WALLET:REF`) records the wallet; `follower subaccount-setup`
prints the wallet's one-time calls and, given the wallet's key once, sends them (audited,
the key stored nowhere); `follower list` shows the actions left and the expiry; `status`
names a subaccount running low; `follower approve` is refused for a subaccount follower
(copytrade holds no key of the wallet); bad input is one line, exit 2."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from core.adapters.gmx import local
from core.adapters.signers.local import LocalSigner
from core.domain.types import USD
from core.services import alerting
from tests.support.chain import ANVIL_KEY0, random_address, set_balance
from tests.support.gmx_rig import Rig, cli, gmx_rig


@pytest.fixture(scope="module")
def rig(stack: Any) -> Iterator[Rig]:
    with gmx_rig(stack, "ct_subcli") as r:
        yield r


@dataclass
class Keys:
    env: dict[str, str]  # the rig's env with both keys as env: refs (SUB_KEY, WALLET_KEY)
    wallet: LocalSigner
    wallet_key: str
    sub: LocalSigner


@pytest.fixture
def keys(rig: Rig) -> Keys:
    wallet_key, sub_key = ("0x" + secrets.token_hex(32) for _ in range(2))
    wallet, sub = LocalSigner.from_key(wallet_key), LocalSigner.from_key(sub_key)
    for who in (wallet.address, sub.address):
        set_balance(rig.flow.s.chain, who, 10**19)
    env = {**rig.env, "SUB_KEY": sub_key, "WALLET_KEY": wallet_key}
    return Keys(env, wallet, wallet_key, sub)


def add(rig: Rig, keys: Keys, *signer: str) -> int:
    leader = rig.flow.leader()
    out = cli(
        keys.env,
        "follower", "add", "--tg-user-id", "5", "--leader", leader, *signer,
        "--max-leverage", "5", "--max-position-usd", "1000", "--assets", "BTC,ETH",
        "--sizing", "ratio:1", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["address"] == keys.sub.address
    assert got["subaccount_of"] == keys.wallet.address
    return int(got["id"])


def test_setup_prints_the_wallet_s_calls_then_sends_them_once_with_its_key(
    rig: Rig, keys: Keys
) -> None:
    s = rig.flow.s
    fid = add(rig, keys, "--signer", "env:SUB_KEY", "--subaccount-of", keys.wallet.address)
    assert s.registry.follower(fid).account == keys.wallet.address

    printed = cli(keys.env, "follower", "subaccount-setup", str(fid), "--max-actions", "3",
                  "--expires-in-days", "2", "--approve-usd", "50", "--json")  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    plan = json.loads(printed.stdout)
    assert [c["to"] for c in plan["calls"]] == [rig.gmx.subaccount_router, rig.gmx.usdc]
    assert {c["from"] for c in plan["calls"]} == {keys.wallet.address}
    assert plan["sent"] == []
    standing = s.venue.decode_subaccount(
        s.chain.calls(s.venue.subaccount_calls(keys.wallet.address, keys.sub.address))
    )
    assert not standing.authorized  # printing sends nothing

    local.fund_usdc(s.chain, LocalSigner.from_key(ANVIL_KEY0), 31337, rig.gmx,
                    keys.wallet.address, 100 * USD)  # fmt: skip
    sent = cli(keys.env, "follower", "subaccount-setup", str(fid), "--max-actions", "3",
               "--expires-in-days", "2", "--approve-usd", "50",
               "--wallet-signer", "env:WALLET_KEY", "--reason", "onboard", "--json")  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    hashes = json.loads(sent.stdout)["sent"]
    assert len(hashes) == 2
    standing = s.venue.decode_subaccount(
        s.chain.calls(s.venue.subaccount_calls(keys.wallet.address, keys.sub.address))
    )
    assert standing.authorized
    assert (standing.actions_used, standing.max_actions) == (0, 3)
    head = s.chain.head_time()
    assert head + 2 * 86_400 - 60 <= standing.expires_at <= head + 2 * 86_400
    assert s.approvals.held([keys.wallet.address])[keys.wallet.address] == (100 * USD, 50 * USD)
    with s.db.tx() as conn:
        details = conn.execute(
            text("SELECT details FROM audit_log WHERE action = 'follower.subaccount_setup'")
        ).scalar_one()
    assert details["tx_hashes"] == hashes
    assert keys.wallet_key[2:] not in json.dumps(details)

    listed = cli(keys.env, "follower", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = [r for r in json.loads(listed.stdout) if r["id"] == fid]
    assert row["actions_left"] == 3
    assert row["subaccount_expires_at"].startswith("20")
    assert row["subaccount_refused"] is None
    status = cli(keys.env, "status", "--json")
    assert status.returncode == 0, status.stderr
    low = json.loads(status.stdout)["subaccounts_low"]
    assert any(line.startswith(f"follower {fid}: 3 action(s) left of 3") for line in low), low

    # The follower hears it too, once (docs/followers.md), and the operator has no channel.
    s.registry.set_notify_url(fid, "json://127.0.0.1:9/x", "json://…", "pytest", None)
    assert alerting.check(s).get(f"subaccount_low:{fid}") == "opened"
    assert f"subaccount_low:{fid}" not in alerting.check(s)
    (told,) = s.notifications.listing(None, fid, 10)
    assert told["event"] == "subaccount_low"
    assert all(r["destination"] != "operator" for r in s.notifications.listing(None, None, 100))


def test_the_signer_form_names_the_wallet_and_bad_input_is_one_line(rig: Rig, keys: Keys) -> None:
    fid = add(rig, keys, "--signer", f"subaccount:{keys.wallet.address}:env:SUB_KEY")
    assert rig.flow.s.registry.follower(fid).subaccount_of == keys.wallet.address
    leader = rig.flow.leader()
    base = ["follower", "add", "--tg-user-id", "5", "--leader", leader, "--max-leverage", "5",
            "--max-position-usd", "1000", "--assets", "BTC", "--sizing", "ratio:1"]  # fmt: skip
    for signer, words in (
        (["--signer", "subaccount:0x1234:env:SUB_KEY"], "the wallet is not"),
        (["--signer", f"subaccount:{keys.wallet.address}"], "subaccount:WALLET:REF"),
        (
            [
                "--signer",
                f"subaccount:{random_address()}:env:SUB_KEY",
                "--subaccount-of",
                keys.wallet.address,
            ],
            "disagree",
        ),  # fmt: skip
        (["--signer", "env:SUB_KEY", "--subaccount-of", keys.sub.address], "own address"),
    ):
        out = cli(keys.env, *base, *signer)
        assert out.returncode == 2, out.stdout + out.stderr
        assert out.stderr.count("\n") == 1, out.stderr
        assert words in out.stderr, out.stderr


def test_approve_and_a_wrong_wallet_key_are_refused_for_a_subaccount_follower(
    rig: Rig, keys: Keys
) -> None:
    fid = add(rig, keys, "--signer", "env:SUB_KEY", "--subaccount-of", keys.wallet.address)
    out = cli(keys.env, "follower", "approve", str(fid), "--amount", "10")
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"subaccount-setup {fid}" in out.stderr
    out = cli(keys.env, "follower", "subaccount-setup", str(fid), "--wallet-signer", "env:SUB_KEY")
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"not the wallet {keys.wallet.address}" in out.stderr
    assert "SUB_KEY" not in os.environ  # the refs were the subprocess's only
