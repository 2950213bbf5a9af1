"""`copytrade` command line (Typer + Rich). Errors print one line and exit non-zero."""

from __future__ import annotations

import sys

import typer

from core.cli import admin, signals
from core.cli.common import console_err
from core.domain.errors import CopytradeError

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="copytrade: mirror a leader's trades to followers' wallets.")
admin.register(app)
signals.register(app)


def main() -> None:
    try:
        app(standalone_mode=False)
    except CopytradeError as exc:
        console_err.print(f"error: {exc}")
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        console_err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click's usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        console_err.print(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        sys.exit(1)
