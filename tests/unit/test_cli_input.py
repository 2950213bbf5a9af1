"""The `copytrade` command on paths that need no server: help texts, bad input (one line
on stderr, exit 2), and `--json` answers that stay JSON."""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.adapters.signers import REF_FORMS
from core.adapters.signers.factory import SCHEMES
from core.cli import app
from core.cli.common import emit_json
from tests.support.procs import copytrade_cmd, free_port

ROOT = Path(__file__).resolve().parents[2]


def no_server_env() -> dict[str, str]:
    """No COPYTRADE_* setting but a database nobody listens on: a path that reached for a
    server would fail differently."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRADE_")}
    env["COPYTRADE_DATABASE_URL"] = f"postgresql://x@127.0.0.1:{free_port()}/none"
    return env


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        copytrade_cmd(*args),
        env=no_server_env(),
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def help_text(*args: str) -> str:
    out = CliRunner().invoke(app, [*args, "--help"], env={"TERMINAL_WIDTH": "100"})
    assert out.exit_code == 0, out.output
    return " ".join(out.output.replace("│", " ").split())  # Rich wraps inside its boxes


@pytest.mark.parametrize(
    "command",
    [("follower", "add"), ("follower", "set-signer"), ("venue", "deploy"), ("dev", "gmx-deploy")],
)
def test_signer_help_lists_every_reference_form_the_factory_accepts(
    command: tuple[str, ...],
) -> None:
    assert set(REF_FORMS) == set(SCHEMES)
    text = help_text(*command)
    for form in REF_FORMS.values():
        assert form in text, (form, text)


FOLLOWER_ADD = (
    "follower",
    "add",
    "--tg-user-id",
    "1",
    "--leader",
    "0x" + "ab" * 20,
    "--signer",
    "env:NOT_SET",
    "--max-leverage",
    "2",
    "--max-position-usd",
    "10",
    "--assets",
    "BTC",
)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ((*FOLLOWER_ADD, "--sizing", "ratio:12345678901"), "bad_sizing"),
        ((*FOLLOWER_ADD, "--sizing", "equity:1e12/1"), "bad_sizing"),
        ((*FOLLOWER_ADD, "--sizing", "equity:1/1e-999999999"), "bad_sizing"),
        ((*FOLLOWER_ADD[:-3], "1e999999999999999999999", "--assets", "BTC", "--sizing", "ratio:1"),
         "bad_amount"),
        (("follower", "set-policy", "1", "--sizing", "ratio:12345678901"), "bad_sizing"),
        (("follower", "set-policy", "1", "--max-position-usd", "0.0000001"), "bad_amount"),
    ],
)  # fmt: skip
def test_a_bad_policy_number_is_one_line_on_stderr_and_exit_2_before_any_server(
    args: tuple[str, ...], said: str
) -> None:
    out = cli(*args)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith(f"error: {said}: ")
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "InvalidOperation" not in out.stderr


def test_submit_json_with_json_answers_every_refusal_in_json(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"schema": 1, "pad": "x" * 70_000}))
    nan = tmp_path / "nan.json"
    nan.write_text('{"schema": 1, "collateral_usd_1e6": NaN}')
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 30_000 + "]" * 30_000)
    for args, stdin, reason in (
        ((str(big),), None, "too_large"),
        ((str(nan),), None, "bad_json"),
        ((str(deep),), None, "bad_json"),
        (("-",), "{not json", "bad_json"),
        ((str(tmp_path / "missing.json"),), None, "unreadable"),
    ):
        out = cli("signal", "submit-json", *args, "--json", stdin=stdin)
        assert out.returncode == 2, (reason, out.stderr)
        answer = json.loads(out.stdout)
        assert (answer["status"], answer["reason"]) == ("rejected", reason)
        assert answer["detail"]
        assert out.stderr == ""
    plain = cli("signal", "submit-json", str(big))  # without --json: the one-line error
    assert (plain.returncode, plain.stdout) == (2, "")
    assert plain.stderr.startswith("error: too_large: ")


def test_verify_help_states_every_exit_code_with_the_wrong_chain() -> None:
    text = help_text("verify")
    assert "Exit 0: no breach" in text
    assert "Exit 1: one breach or more" in text
    assert "Exit 2: the check could not run" in text
    assert "wrong chain" in text


def test_json_output_prints_decimals_as_plain_digits(capsys: pytest.CaptureFixture[str]) -> None:
    emit_json({"usd": Decimal("1E+6"), "ratio": Decimal("0.250"), "tiny": Decimal("1E-7")})
    assert json.loads(capsys.readouterr().out) == {
        "usd": "1000000",
        "ratio": "0.25",
        "tiny": "0.0000001",
    }


def test_mode_commands_offer_json() -> None:
    for verb in ("live", "dry", "show"):
        assert "--json" in help_text("mode", verb)
