"""Notifications from the command line: `copytrade follower notify ID DESTINATION` (where a
follower hears what happened) and `copytrade notifications list` (the outbox)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from core.cli.common import console, console_err, emit_json, table
from core.domain.errors import RejectedSignal
from core.domain.notifications import TELEGRAM

if TYPE_CHECKING:
    from core.bootstrap import Services

OFF = "off"


def _svc() -> Services:
    # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)
    from core.bootstrap import services

    return services()


def shown(url: str) -> str:
    """A destination as it may be shown: its scheme only (the rest may hold a token)."""
    if url in (TELEGRAM, OFF):
        return url
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://…" if sep else "…"


def register(follower: typer.Typer, app: typer.Typer) -> None:
    @follower.command("notify")
    def follower_notify(
        follower_id: int,
        destination: Annotated[
            str,
            typer.Argument(
                help="An apprise URL (json://host/path, tgram://TOKEN/CHAT, discord://…, "
                "mailto://…), `telegram` (the bot of COPYTRADE_TELEGRAM_BOT_TOKEN writes to "
                "the follower's tg_user_id), or `off`."
            ),
        ],
        test: Annotated[bool, typer.Option("--test", help="Send a test message too.")] = False,
        reason: Annotated[
            Optional[str], typer.Option("--reason", help="Why (goes to the audit log).")
        ] = None,
    ) -> None:
        """Where a follower hears what happened to its copies (executed, rejected and why,
        cancelled by the venue, held, withdrawn, the operator's stop)."""
        if destination not in (TELEGRAM, OFF):
            from core.adapters.notify_apprise import valid  # start-up cost: apprise

            if not valid(destination):
                raise RejectedSignal(
                    "bad_destination",
                    f"{shown(destination)} is no URL apprise can send to (see `--help`)",
                )
        s = _svc()
        if destination == TELEGRAM and not s.settings.telegram_bot_token.get_secret_value():
            console_err.print("[yellow]COPYTRADE_TELEGRAM_BOT_TOKEN is not set: nothing is "
                              "sent to telegram until it is[/]")  # fmt: skip
        url = None if destination == OFF else destination
        actor = s.settings.operator or "cli"
        s.registry.set_notify_url(follower_id, url, shown(destination), actor, reason)
        if test and url is not None:
            s.registry.notify_test(follower_id, actor)
        where = "nowhere" if url is None else shown(destination)
        console.print(
            f"follower {follower_id} hears at {where}" + (" (test queued)" if test and url else "")
        )

    notifications = typer.Typer(help="The notifications outbox.", no_args_is_help=True)
    app.add_typer(notifications, name="notifications")

    @notifications.command("list")
    def notifications_list(
        state: Annotated[Optional[str], typer.Option(help="pending | sent | failed")] = None,
        follower: Annotated[Optional[int], typer.Option("--follower")] = None,
        limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
        json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """The newest notifications: what, to whom, its state, tries and last error."""
        if state is not None and state not in ("pending", "sent", "failed"):
            raise typer.BadParameter(f"--state {state!r}: pending, sent or failed")
        rows = _svc().notifications.listing(state, follower, limit)
        if json_:
            emit_json(rows)
            return
        cols = [
            "id",
            "destination",
            "event",
            "state",
            "tries",
            "created_at",
            "sent_at",
            "last_error",
        ]
        table("notifications", cols, [[r[c] for c in cols] for r in rows])
