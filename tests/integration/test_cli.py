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


SUBMIT = (
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
    "--leverage",
    "2",
)


@pytest.mark.parametrize(
    "args",
    [
        ("leader", "add", "--address", "0x1234"),
        ("intent", "show", "999999999"),
        ("intents", "list", "--state", "bogus"),
        (*SUBMIT, "--collateral-usd", "10"),  # unknown leader
        (*SUBMIT, "--collateral-usd", "ten"),
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
        ("intent", "cancel", "999999999", "--reason", "x"),
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


def test_db_upgrade_migrates_a_fresh_database_and_is_repeatable(stack: Any) -> None:
    from alembic.script import ScriptDirectory

    from core.adapters.postgres.migrate import alembic_config
    from tests.support.databases import fresh_database

    with fresh_database("ct_cli", migrate=False) as url:
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        env = {**stack.env, "COPYTRADE_DATABASE_URL": url}
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-m", "core.cli", "db", "upgrade"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert out.returncode == 0, out.stderr
            assert f"revision {head}" in out.stdout


def test_venue_deploy_prints_an_address_whose_prices_are_set(stack: Any) -> None:
    from core.adapters.chain import Chain
    from core.adapters.venue import decode_uint, encode_prices
    from tests.support.chain import ANVIL_KEY0

    env = {**stack.env, "DEPLOYER_KEY": ANVIL_KEY0}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "core.cli",
            "venue",
            "deploy",
            "--signer",
            "env:DEPLOYER_KEY",
            "--price",
            "BTC=123.45",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    address = out.stdout.strip()
    assert address.startswith("0x")
    assert len(address) == 42
    price = decode_uint(Chain(stack.rpc_url).call(address, encode_prices("BTC")))
    assert price == 123_450_000
    assert ANVIL_KEY0[2:] not in out.stdout + out.stderr


def test_status_json_reports_mode_heartbeat_stop_and_intents(stack: Any) -> None:
    out = run(stack, "status", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["requested_mode"], data["effective_mode"], data["why_not_live"]) == (
        "live",
        "live",
        None,
    )
    assert data["redis_streak"] >= 3
    assert 0 <= data["heartbeat_age_s"] < 1.0
    assert data["emergency_stop"] is False
    assert isinstance(data["intents_by_state"], dict)


def test_status_says_no_new_block_for_n_s_when_the_head_stops(stack: Any) -> None:
    """A dev node without continuous blocks (instamine) leaves the last order unconfirmed:
    status names a head older than COPYTRADE_HEAD_STALL_S (the session's anvil mines every
    0.5 s, so its head is young; seen from 2 minutes on, it has stalled)."""
    import time

    from core.bootstrap import services
    from core.services.status import chain_head

    out = run(stack, "status", "--json")
    head = json.loads(out.stdout)["chain_head"]
    assert head["block"] > 0
    assert head["stalled"] is None
    later = chain_head(services(), now=time.time() + 120)
    assert later["stalled"] is not None
    assert later["stalled"].startswith("no new block for 1")


def test_status_says_why_not_live_when_the_mode_store_is_unreachable(stack: Any) -> None:
    from tests.support.procs import free_port

    env = {**stack.env, "COPYTRADE_MODE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    out = subprocess.run(
        [sys.executable, "-m", "core.cli", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    data = json.loads(out.stdout)
    assert (data["effective_mode"], data["why_not_live"]) == ("dry", "mode_store_unreadable")
    assert data["redis_streak"] is None


def test_mode_show_and_stop_need_a_reason(stack: Any) -> None:
    shown = json.loads(run(stack, "mode", "show", "--json").stdout)
    assert shown["requested_mode"] == "live"
    out = run(stack, "stop")
    assert out.returncode != 0
    assert "--reason" in out.stderr


def test_readme_operator_commands_work_end_to_end_on_a_fresh_database(stack: Any) -> None:
    """mode live/dry, stop/resume (audit-logged), intents list / intent show --json."""
    from tests.support.databases import fresh_database

    with fresh_database("ct_readme") as url:
        env = {**stack.env, "COPYTRADE_DATABASE_URL": url}

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "core.cli", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )

        assert json.loads(cli("mode", "show", "--json").stdout)["requested_mode"] == "dry"
        assert cli("mode", "live", "--reason", "go").returncode == 0
        shown = json.loads(cli("mode", "show", "--json").stdout)
        assert (shown["requested_mode"], shown["effective_mode"]) == ("live", "live")
        assert cli("stop", "--reason", "drill").returncode == 0
        status = json.loads(cli("status", "--json").stdout)
        assert (status["emergency_stop"], status["why_not_live"]) == (True, "emergency_stop")
        assert cli("resume", "--reason", "drill over").returncode == 0
        assert json.loads(cli("status", "--json").stdout)["emergency_stop"] is False
        assert cli("mode", "dry", "--reason", "done").returncode == 0
        leader = random_address()
        assert cli("leader", "add", "--address", leader).returncode == 0
        listed = json.loads(cli("leader", "list", "--json").stdout)
        assert [r["address"] for r in listed] == [leader]
        assert json.loads(cli("intents", "list", "--json").stdout) == []
        from core.bootstrap import Services
        from tests.support.stacks import settings_with

        actions = [a["action"] for a in Services(settings_with(env)).audit_queries.audit()]
        for expected in ("control.requested_mode", "control.emergency_stop", "leader.add"):
            assert expected in actions


def test_submit_json_takes_the_schema_payload_and_refuses_what_is_not_json(
    stack: Any, tmp_path: Any
) -> None:
    from core.bootstrap import services

    leader = random_address()
    services().registry.add_leader(leader, "pytest")
    payload = {
        "schema": 1,
        "signal_id": f"json-{leader[-8:]}",
        "leader": leader,
        "action": "open",
        "asset": "BTC",
        "side": "long",
        "collateral_usd_1e6": 10_000_000,
        "leverage_x": 2,
    }
    good = tmp_path / "good.json"
    good.write_text(json.dumps(payload))
    out = run(stack, "signal", "submit-json", str(good), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "accepted"
    for name, text, reason in (
        (
            "nan.json",
            json.dumps({**payload, "signal_id": "nan-1"}).replace("10000000", "NaN"),
            "bad_json",
        ),
        ("big.json", json.dumps({**payload, "pad": "x" * 70_000}), "too_large"),
        ("nest.json", "[" * 30_000 + "]" * 30_000, "bad_json"),
    ):
        (tmp_path / name).write_text(text)
        bad = run(stack, "signal", "submit-json", str(tmp_path / name))
        assert bad.returncode == 2
        assert reason in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    schema = json.loads(run(stack, "signal", "schema").stdout)
    assert set(schema["required"]) == {
        "signal_id", "leader", "action", "asset", "side", "collateral_usd_1e6", "leverage_x"
    }  # fmt: skip


def test_mode_live_prints_the_requested_and_the_effective_mode_and_why_they_differ(
    stack: Any,
) -> None:
    """`mode live` only records the request (exit 0); it says the mode in effect and, when
    that is DRY, why — here the mode store cannot be reached."""
    from tests.support.databases import fresh_database
    from tests.support.procs import free_port

    with fresh_database("ct_mode_live") as url:
        env = {**stack.env, "COPYTRADE_DATABASE_URL": url}
        unreachable = {**env, "COPYTRADE_MODE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}

        def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "core.cli", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )

        out = cli(unreachable, "mode", "live", "--reason", "go")
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == (
            "requested LIVE, effective DRY: mode_store_unreadable "
            "(the mode store (COPYTRADE_MODE_REDIS_URL) failed: check it)"
        )
        out = cli(unreachable, "mode", "live", "--reason", "again", "--json")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == {
            "requested_mode": "live",
            "effective_mode": "dry",
            "why_not_live": "mode_store_unreadable",
        }
        # the session's heartbeat keeps its store fresh: the request takes effect at once
        assert cli(env, "mode", "live").stdout.strip() == "requested LIVE, effective LIVE"
        assert cli(env, "mode", "show").stdout.strip() == "requested LIVE, effective LIVE"
        assert cli(env, "stop", "--reason", "test").returncode == 0
        assert cli(env, "mode", "live").stdout.strip() == (
            "requested LIVE, effective DRY: emergency_stop "
            "(the stop is on: `copytrade resume --reason …` once the cause is known)"
        )
        assert cli(env, "mode", "dry").stdout.strip() == (
            "requested DRY, effective DRY: emergency_stop "
            "(the stop is on: `copytrade resume --reason …` once the cause is known)"
        )


def test_follower_list_prints_plain_usd_amounts_never_an_exponent(stack: Any) -> None:
    import secrets

    leader = random_address()
    assert run(stack, "leader", "add", "--address", leader).returncode == 0
    env = {**stack.env, "PLAIN_KEY": "0x" + secrets.token_hex(32), "COLUMNS": "400"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "core.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    added = cli(
        "follower",
        "add",
        "--tg-user-id",
        "78",
        "--leader",
        leader,
        "--signer",
        "env:PLAIN_KEY",
        "--max-leverage",
        "3",
        "--max-position-usd",
        "1000000",
        "--assets",
        "BTC",
        "--sizing",
        "ratio:10",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    fid, address = json.loads(added.stdout)["id"], json.loads(added.stdout)["address"]
    rows = {r["id"]: r for r in json.loads(cli("follower", "list", "--json").stdout)}
    assert (rows[fid]["max_position_usd"], rows[fid]["sizing"]) == ("1000000", "ratio:10")
    shown = cli("follower", "list")
    assert shown.returncode == 0, shown.stderr
    (line,) = [ln for ln in shown.stdout.splitlines() if address in ln]
    cells = [c.strip() for c in line.split("│")]
    assert "1000000" in cells
    assert "ratio:10" in cells
    assert "E+" not in shown.stdout
