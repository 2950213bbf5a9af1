"""The chain's identity counts in the effective mode: while the node answers for another
chain every send is refused, so `status` and the mode verbs say DRY and why; the alarm is
over as soon as the node is right again (not minutes later)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def cli(stack: Any, *args: str, **env: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "core.cli", *args, "--json"],
        env={**stack.env, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def test_a_wrong_chain_makes_status_dry_and_the_alarm_ends_when_the_node_is_right(
    stack: Any,
) -> None:
    wrong = cli(stack, "status", COPYTRADE_CHAIN_ID="1")  # the session's node is 31337
    assert (wrong["requested_mode"], wrong["effective_mode"]) == ("live", "dry")
    assert wrong["why_not_live"] == "wrong_chain"
    assert "!= COPYTRADE_CHAIN_ID 1" in wrong["chain_alarm"]
    shown = cli(stack, "mode", "show", COPYTRADE_CHAIN_ID="1")
    assert (shown["effective_mode"], shown["why_not_live"]) == ("dry", "wrong_chain")

    right = cli(stack, "status")  # the same database, the alarm just noted
    assert (right["effective_mode"], right["why_not_live"], right["chain_alarm"]) == (
        "live",
        None,
        None,
    )
