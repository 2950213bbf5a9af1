"""The `copytrade` command: bad input is one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.support.chain import random_address


def run(stack: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("leader", "add", "--address", "0x1234"),
        ("intent", "show", "999999999"),
        ("intents", "list", "--state", "bogus"),
        (
            "signal",
            "submit",
            "--leader",
            "0x" + "ab" * 20,
            "--action",
            "open",
            "--asset",
            "BTC",
            "--side",
            "long",
            "--collateral-usd",
            "10",
            "--leverage",
            "2",
        ),
        (
            "signal",
            "submit",
            "--leader",
            "0x" + "ab" * 20,
            "--action",
            "open",
            "--asset",
            "BTC",
            "--side",
            "long",
            "--collateral-usd",
            "ten",
            "--leverage",
            "2",
        ),
        (
            "follower",
            "add",
            "--tg-user-id",
            "1",
            "--leader",
            "0x" + "ab" * 20,
            "--signer",
            "vault:x",
            "--max-leverage",
            "2",
            "--max-position-usd",
            "10",
            "--assets",
            "BTC",
            "--sizing",
            "ratio:1",
        ),
        ("follower", "pause", "999999"),
        ("follower", "set-policy", "999999", "--max-leverage", "3"),
    ],
)
def test_bad_input_gets_a_one_line_error_and_non_zero_exit(
    stack: Any, args: tuple[str, ...]
) -> None:
    out = run(stack, *args)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_follower_add_then_list_json_shows_the_policy(stack: Any, tmp_path: Any) -> None:
    from core.adapters.chain import Chain
    from tests.support.chain import new_keystore

    leader = random_address()
    assert run(stack, "leader", "add", "--address", leader).returncode == 0
    ref, address = new_keystore(tmp_path, Chain(stack.rpc_url))
    added = run(
        stack,
        "follower",
        "add",
        "--tg-user-id",
        "77",
        "--leader",
        leader,
        "--signer",
        ref,
        "--max-leverage",
        "3",
        "--max-position-usd",
        "250.5",
        "--assets",
        "btc,eth",
        "--sizing",
        "fixed-notional:10",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    fid = json.loads(added.stdout)["id"]
    rows = {r["id"]: r for r in json.loads(run(stack, "follower", "list", "--json").stdout)}
    assert rows[fid]["address"] == address
    assert rows[fid]["max_position_usd_1e6"] == 250_500_000
    assert rows[fid]["assets"] == "BTC,ETH"
    assert rows[fid]["sizing"] == "fixed-notional:10"
    assert run(stack, "follower", "pause", str(fid)).returncode == 0
    rows = {r["id"]: r for r in json.loads(run(stack, "follower", "list", "--json").stdout)}
    assert rows[fid]["paused"] is True
