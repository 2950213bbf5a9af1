"""`copytrade drill`: the Go/No-Go drills an operator runs before going LIVE."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from core.cli.common import console, console_err, emit_json


def register(app: typer.Typer) -> None:
    @app.command("drill")
    def drill(
        names: Annotated[
            list[str],
            typer.Argument(
                help="all | redis-failover | redis-recovery | stuck-tx | emergency-stop | "
                "duplicate-signal (several run one after another)."
            ),
        ],
        observe: Annotated[
            bool,
            typer.Option(
                "--observe",
                help="Watch the configured deployment while you induce the fault; judge "
                "from PostgreSQL and the chain. Default: a throwaway local stack.",
            ),
        ] = False,
        fault: Annotated[
            str | None,
            typer.Option(
                help="Mode-store fault for the Redis drills: kill | hang | flush | "
                "restart-empty | restore-old-streak."
            ),
        ] = None,
        same_redis: Annotated[
            bool, typer.Option("--same-redis", help="Local: mode store on the broker's Redis.")
        ] = False,
        venue: Annotated[
            str,
            typer.Option(
                help="Local: the venue of the throwaway stack: simple (the demo router) | "
                "gmx (the local GMX-compatible venue, a dev keeper filling every request)."
            ),
        ] = "simple",
        timeout: Annotated[float, typer.Option(help="Seconds to wait for each step.")] = 60.0,
        keep: Annotated[bool, typer.Option(help="Local: keep the stack's directory.")] = False,
        json_: Annotated[bool, typer.Option("--json", help="Reports as JSON.")] = False,
    ) -> None:
        """Run drills; each prints a verdict with its figures. Exit 1 if any check fails."""
        # start-up cost: the drills load sqlalchemy, eth_abi and the demo stack (~0.5 s)
        from core.drills.base import Report
        from core.drills.mode import FAULTS  # start-up cost: sqlalchemy (via core.drills.base)
        from core.drills.run import expand, run_local, run_observe  # start-up cost: the drills

        try:
            chosen = expand(names)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        if fault is not None and fault not in FAULTS:
            raise typer.BadParameter(f"--fault: one of {', '.join(FAULTS)}")
        if venue not in ("simple", "gmx"):
            raise typer.BadParameter(f"--venue {venue!r}: simple | gmx")
        if observe and (fault or same_redis or venue != "simple"):
            raise typer.BadParameter("--fault, --same-redis and --venue are for local drills")

        def say(text: str) -> None:
            console_err.print(f"[dim]{text}[/]")

        def show(r: Report) -> None:
            if json_:
                return
            console.rule(f"[bold]{r.drill}[/] ({r.where})")
            for k, v in r.figures.items():
                shown = json.dumps(v, default=str) if isinstance(v, dict | list) else v
                console.print(f"  {k}: {shown}")
            for what, ok in r.checks:
                console.print(f"  {'[green]PASS[/]' if ok else '[red]FAIL[/]'} {what}")
            console.print("[green]GO[/]" if r.ok else "[red]NO-GO[/]")

        if observe:
            # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)
            from core.bootstrap import services

            reports = run_observe(chosen, timeout, say, show, services())
        else:
            reports = run_local(chosen, fault, same_redis, timeout, say, show, keep, venue)
        if json_:
            emit_json([r.as_dict() for r in reports])
        ok = all(r.ok for r in reports) and len(reports) == len(chosen)
        if not json_:
            console.print(
                f"[bold]{'GO' if ok else 'NO-GO'}[/]: "
                f"{sum(r.ok for r in reports)}/{len(chosen)} drill(s) passed"
            )
        if not ok:
            raise typer.Exit(1)
