"""Read-only reports: `copytrade audit` (operator actions) and `copytrade drift`
(followers' positions against their leaders' and their policies)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import typer
from rich.progress import Progress

from core.cli.common import console, emit_json, table
from core.domain.errors import ConfigError
from core.domain.types import USD
from core.services.drift import report as drift_report

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
_AGO = re.compile(r"\A(\d+)([smhd])\Z")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`30m`, `12h`, `7d` ago, or an ISO date/time (UTC unless it says otherwise)."""
    m = _AGO.match(text.strip())
    if m:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"--since {text!r}: use a duration (30m, 12h, 7d) or an ISO date (2026-12-01)"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _usd(v: int | None) -> str:
    return "n/a" if v is None else f"{Decimal(v) / USD:,.2f}"


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit(
        since: Annotated[
            str | None, typer.Option(help="From: a duration (30m, 12h, 7d) or an ISO date.")
        ] = None,
        action: Annotated[
            str | None, typer.Option(help="Actions starting with this (control., follower.).")
        ] = None,
        limit: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
        json_: Json = False,
    ) -> None:
        """Operator actions (mode, stop, resume, leaders, followers, policies, signers,
        cancels) with who, when and why; oldest first."""
        # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)
        from core.bootstrap import services

        at = parse_since(since) if since else None
        rows = services().audit_queries.audit(limit, at, action)
        if json_:
            emit_json(rows)
            return
        table(
            "audit log",
            ["at", "who", "action", "why", "details"],
            [
                (
                    r["at"].isoformat(timespec="seconds"),
                    r["actor"],
                    r["action"],
                    r["reason"],
                    ", ".join(f"{k}={v}" for k, v in sorted(r["details"].items())),
                )
                for r in rows
            ],
        )

    @app.command("drift")
    def drift(
        follower: Annotated[int | None, typer.Option(help="One follower id.")] = None,
        tolerance_bps: Annotated[
            int, typer.Option(min=0, max=10_000, help="Allowed gap to the target, in bps.")
        ] = 100,
        all_: Annotated[bool, typer.Option("--all", help="Also list flat pairs.")] = False,
        problems: Annotated[bool, typer.Option(help="Only rows that are not ok.")] = False,
        json_: Json = False,
    ) -> None:
        """Per follower and asset: the leader's position, the follower's on chain, what
        the policy asks for (ratio/equity sizing) and allows (max position). Exit 1 when a
        row is not ok."""
        from core.adapters.postgres.reads.queries import Queries  # start-up cost: sqlalchemy
        from core.bootstrap import services  # start-up cost: web3, sqlalchemy, all adapters

        s = services()
        fs = s.registry.list_followers()
        if follower is not None:
            fs = [f for f in fs if f.id == follower]
            if not fs:
                raise ConfigError(f"follower {follower} does not exist")
        traded = Queries(s.db).traded_assets()
        with Progress(console=console, transient=True, disable=json_) as bar:
            task = bar.add_task("reading positions", total=len(fs))
            rows = drift_report(
                fs,
                traded,
                s.chain,
                s.settings.venue_address,
                s.venue,
                tolerance_bps,
                all_,
                step=lambda: bar.advance(task),
            )
        if problems:
            rows = [r for r in rows if r["status"] not in ("ok", "flat")]
        if json_:
            emit_json(rows)
        else:
            table(
                "drift (USD; negative = short)",
                [
                    "follower (account)",
                    "asset",
                    "status",
                    "leader",
                    "follower pos",
                    "target",
                    "off by",
                    "limit",
                    "sizing",
                ],
                [
                    (
                        f"{r['follower_id']} ({r['account_id']})",
                        r["asset"],
                        r["status"],
                        _usd(r["leader_usd_1e6"]),
                        _usd(r["follower_usd_1e6"]),
                        _usd(r["target_usd_1e6"]),
                        _usd(r["off_by_usd_1e6"]),
                        _usd(r["limit_usd_1e6"]),
                        r["sizing"],
                    )
                    for r in rows
                ],
            )
        if any(r["status"] not in ("ok", "flat") for r in rows):
            raise typer.Exit(1)
