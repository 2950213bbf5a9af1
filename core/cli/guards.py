"""Follower money guards: `follower close-all`, `follower pause` (closing positions when the
policy or the operator says so), `follower remove`, `follower reset-breaker`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from core.cli.common import Json, Reason, console, emit_json, services, table
from core.domain.errors import RejectedSignal

if TYPE_CHECKING:
    from core.bootstrap import Services
    from core.services.flatten import Closing

Positions = Annotated[
    Optional[bool],
    typer.Option(
        "--close-positions/--keep-positions",
        help="Close every position the follower holds on the venue, or leave them (default: "
        "the policy's close_on_stop).",
    ),
]


CLOSE_ON_STOP_HELP = "Pausing or removing the follower also closes its positions."
DrawdownOpt = Annotated[
    Optional[int],
    typer.Option(
        "--max-drawdown-bps",
        min=0,
        max=10_000,
        help="Loss guard: trip the circuit breaker when equity falls this many basis points "
        "under its high-water mark (0: no limit).",
    ),
]
DailyLossOpt = Annotated[
    Optional[str],
    typer.Option(
        "--max-daily-loss-usd",
        help="Loss guard: trip the circuit breaker when equity falls more than this many USD "
        "under the day's first reading, UTC (0: no limit).",
    ),
]
CloseOnStopOpt = Annotated[bool, typer.Option("--close-on-stop", help=CLOSE_ON_STOP_HELP)]


def _actor(s: Services) -> str:
    return s.settings.operator or "cli"


def _show(title: str, closing: list[Closing], json_: bool, extra: dict[str, object]) -> None:
    if json_:
        emit_json(extra | {"closing": [c.as_dict() for c in closing]})
        return
    console.print(title)
    if closing:
        rows = [(c.asset, c.side, c.status, c.signal_id) for c in closing]
        table("closing", ["asset", "side", "status", "signal_id"], rows)


def register(follower: typer.Typer) -> None:
    @follower.command("close-all")
    def close_all(
        follower_id: int,
        reason: Annotated[str, typer.Option("--reason", help="Why (goes to the audit log).")],
        json_: Json = False,
    ) -> None:
        """Close every position the follower holds on the venue, through the pipeline (one
        signal per position: idempotent, audited; sent only when LIVE and not stopped; its
        pause and breaker do not hold it). Follow them with `copytrade signal show ID`."""
        s = services()
        closing = s.flattener.close_all(follower_id, reason, _actor(s))
        what = f"{len(closing)} position(s)" if closing else "no position held"
        _show(f"follower {follower_id}: closing {what}", closing, json_, {"id": follower_id})

    @follower.command("pause")
    def follower_pause(
        follower_id: int, close: Positions = None, reason: Reason = None, json_: Json = False
    ) -> None:
        """Pause a follower: its new intents are rejected (`paused`). With the policy's
        close_on_stop (or --close-positions) its positions are closed too."""
        s = services()
        f = s.registry.follower(follower_id)
        s.registry.set_follower_flags(follower_id, _actor(s), reason, paused=True)
        closing: list[Closing] = []
        if close if close is not None else f.policy.close_on_stop:
            closing = s.flattener.close_all(follower_id, reason or "paused", _actor(s))
        _show(f"follower {follower_id} paused", closing, json_, {"id": follower_id})

    @follower.command("remove")
    def follower_remove(
        follower_id: int, close: Positions = None, reason: Reason = None, json_: Json = False
    ) -> None:
        """Remove a follower: it copies nothing more (its history stays). With positions
        open on the venue it is refused unless --close-positions or --keep-positions says
        what becomes of them (or the policy's close_on_stop closes them)."""
        s = services()
        f = s.registry.follower(follower_id)
        if f.removed:
            console.print(f"follower {follower_id} was removed already")
            return
        held = s.flattener.held(f)
        wanted = close if close is not None else (f.policy.close_on_stop or None)
        if held and wanted is None:
            names = ", ".join(f"{h.asset} {h.side.value}" for h in held)
            raise RejectedSignal(
                "open_positions",
                f"follower {follower_id} holds {names} on the venue: say --close-positions "
                "(closed through the pipeline) or --keep-positions (left as they are)",
            )
        closing: list[Closing] = []
        if held and wanted:
            closing = s.flattener.close_all(follower_id, reason or "removed", _actor(s))
        s.registry.remove_follower(follower_id, _actor(s), reason, kept=bool(held and not wanted))
        _show(f"follower {follower_id} removed", closing, json_, {"id": follower_id})

    @follower.command("reset-breaker")
    def reset_breaker(follower_id: int, reason: Reason = None) -> None:
        """Lift a follower's circuit breaker (set by hand or by the loss guard); the loss
        guard's marks start again from the next reading of its equity."""
        s = services()
        s.registry.set_follower_flags(follower_id, _actor(s), reason, circuit_breaker=False)
        console.print(f"follower {follower_id}: circuit breaker off")
