"""Follower accounts: `copytrade account list`, `account set-limits` (docs/followers.md)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Optional

import typer

from core.cli.common import (
    Json,
    Reason,
    console,
    emit_json,
    parse_assets,
    services,
    table,
    usd_limit,
)
from core.domain.accounts import OPPOSITE_RULES
from core.domain.errors import RejectedSignal
from core.domain.sizing import usd_text


def _text(v: int | None) -> str:
    return "-" if v is None else usd_text(v)


def register(app: typer.Typer) -> None:
    account = typer.Typer(
        help="Follower accounts: one wallet copying several leaders under one set of limits.",
        no_args_is_help=True,
    )
    app.add_typer(account, name="account")

    @account.command("list")
    def account_list(json_: Json = False) -> None:
        """Every account with its limits and its followings (one per leader)."""
        rows = services().accounts.list()
        if json_:
            emit_json(rows)
            return
        table(
            "accounts",
            [
                "id",
                "wallet",
                "max_position_usd",
                "max_total_usd",
                "assets",
                "opposite_sides",
                "followings",
            ],
            [
                (
                    r["id"],
                    r["wallet"],
                    _text(r["max_position_usd_1e6"]),
                    _text(r["max_total_usd_1e6"]),
                    ",".join(r["assets"] or ["any"]),
                    r["opposite_sides"],
                    " ".join(
                        f"{f['follower']}:{f['leader'][:10]}…"
                        + (" (removed)" if f["removed"] else "")
                        for f in r["followings"]
                    ),
                )
                for r in rows
            ],
        )

    @account.command("set-limits")
    def set_limits(
        account_id: int,
        max_position_usd: Annotated[
            Optional[str],
            typer.Option(help="Per asset, both sides, across every following (0: no limit)."),
        ] = None,
        max_total_usd: Annotated[
            Optional[str],
            typer.Option(help="Every asset, across every following (0: no limit)."),
        ] = None,
        assets: Annotated[
            Optional[str], typer.Option(help="Allowed assets across followings ('any': all).")
        ] = None,
        opposite_sides: Annotated[
            Optional[str],
            typer.Option(
                help="Two followings on opposite sides of one asset: hedge (both kept) or "
                "reject (the later is rejected)."
            ),
        ] = None,
        reason: Reason = None,
    ) -> None:
        """Change an account's limits across its followings; the rest stay. Each following
        keeps its own policy too: both bind."""
        if opposite_sides is not None and opposite_sides not in OPPOSITE_RULES:
            raise RejectedSignal("bad_rule", f"--opposite-sides is {' or '.join(OPPOSITE_RULES)}")
        position = usd_limit(max_position_usd)
        total = usd_limit(max_total_usd)
        any_asset = assets is None or assets.strip().lower() == "any"
        allowed = None if any_asset else parse_assets(str(assets))
        s = services()
        old = s.accounts.limits(account_id)
        new = replace(
            old,
            max_position_usd_1e6=position
            if max_position_usd is not None
            else old.max_position_usd_1e6,
            max_total_usd_1e6=total if max_total_usd is not None else old.max_total_usd_1e6,
            assets=allowed if assets is not None else old.assets,
            opposite_sides=opposite_sides or old.opposite_sides,
        )
        s.accounts.set_limits(account_id, new, s.settings.operator or "cli", reason)
        console.print(f"account {account_id} limits updated")
