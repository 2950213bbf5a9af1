"""Mode verbs: show the requested and the effective mode, request LIVE or DRY. A request
is only recorded: every answer says what the mode in effect is and, when it is not the one
requested, why (core/domain/mode.py `evaluate`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from core.cli.common import console, emit_json
from core.domain.mode import STREAK_THRESHOLD, ModeVerdict
from core.domain.types import Mode
from core.services.status import effective, wrong_chain

if TYPE_CHECKING:
    from core.bootstrap import Services

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a line.")]
Reason = Annotated[Optional[str], typer.Option("--reason", help="Why (goes to the audit log).")]

# What to do about each `why_not_live` (docs/runbook.md, "Execution mode").
HINTS = {
    "emergency_stop": "the stop is on: `copytrade resume --reason …` once the cause is known",
    "mode_store_unreadable": "the mode store (COPYTRADE_MODE_REDIS_URL) failed: check it",
    "no_heartbeat": "no heartbeat written yet: start `copytrade heartbeat`",
    "heartbeat_stale": "the heartbeat is stale: restart `copytrade heartbeat`",
    "streak_below_": f"recovering: LIVE after {STREAK_THRESHOLD} heartbeats in a row",
    "controls_unreadable": "PostgreSQL could not be read: check it",
    "wrong_chain": "the node is not on the recorded chain: fix COPYTRADE_RPC_URL (runbook)",
}


def _svc() -> Services:
    # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)
    from core.bootstrap import services

    return services()


def _actor() -> str:
    # start-up cost: config.settings loads pydantic_settings, asyncio and ssl (~35 ms)
    from config.settings import get_settings

    return get_settings().operator or "cli"


def mode_data(
    requested: Mode, verdict: ModeVerdict, wrong_chain: str | None = None
) -> dict[str, Any]:
    """The answer of every mode verb (`--json`), the same keys as `status --json`; a node
    on the wrong chain (`wrong_chain`: the problem) makes it DRY (nothing can be sent)."""
    mode, why = effective(verdict.mode.value, verdict.reason, wrong_chain)
    data: dict[str, Any] = {
        "requested_mode": requested.value,
        "effective_mode": mode,
        "why_not_live": why,
    }
    if wrong_chain:
        data["chain_alarm"] = wrong_chain
    return data


def mode_line(data: dict[str, Any]) -> str:
    """`requested LIVE, effective DRY: heartbeat_stale (restart …)` for people."""
    line = f"requested {data['requested_mode'].upper()}, effective {data['effective_mode'].upper()}"
    why = data["why_not_live"]
    if why is None or why == "requested_dry":
        return line
    hint = next((h for k, h in HINTS.items() if why.startswith(k)), None)
    alarm = f" — {data['chain_alarm']}" if data.get("chain_alarm") else ""
    return f"{line}: {why}{alarm}" + (f" ({hint})" if hint else "")


def register(mode: typer.Typer) -> None:
    def answer(requested: Mode, as_json: bool) -> None:
        svc = _svc()
        data = mode_data(requested, svc.mode.verdict(), wrong_chain(svc))
        if as_json:
            emit_json(data)
        else:
            console.print(mode_line(data), markup=False, highlight=False, soft_wrap=True)

    @mode.command("show")
    def mode_show(json_: Json = False) -> None:
        """Show the requested and effective mode (and why it is not LIVE)."""
        answer(_svc().mode.requested(), json_)

    @mode.command("live")
    def mode_live(reason: Reason = None, json_: Json = False) -> None:
        """Request LIVE: orders are signed and broadcast once the effective mode is LIVE too
        (heartbeat streak, no stop). Prints both modes and why they differ; exit 0 once the
        request is recorded."""
        _svc().mode.request(Mode.LIVE, _actor(), reason)
        answer(Mode.LIVE, json_)

    @mode.command("dry")
    def mode_dry(reason: Reason = None, json_: Json = False) -> None:
        """Request DRY: orders are sized and simulated, never signed."""
        _svc().mode.request(Mode.DRY, _actor(), reason)
        answer(Mode.DRY, json_)
