"""`copytrade` command line (Typer + Rich). Errors print one line and exit non-zero."""

from __future__ import annotations

import sys

import typer

# Typer vendors click (typer._click); its usage errors are ClickException subclasses.
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.exceptions import Abort, Exit

from core.cli import accounts, admin, dev, drill, ops, reports, signals
from core.domain.errors import CopytradeError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="copytrade: mirror a leader's trades to followers' wallets.",
)
admin.register(app)
accounts.register(app)
signals.register(app)
ops.register(app)
drill.register(app)
reports.register(app)
dev.register(app)


def fail(message: str, code: int) -> None:
    """One line on stderr, then exit: operators get the reason, never a traceback."""
    print("error: " + " ".join(message.split()), file=sys.stderr)
    sys.exit(code)


def main() -> None:
    try:
        # Without standalone mode Typer returns an exit code (typer.Exit, Ctrl-C -> 130)
        # instead of exiting; commands themselves return None.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            if code == 130:
                print("error: interrupted", file=sys.stderr)
            sys.exit(code)
    except CopytradeError as exc:
        fail(str(exc), 2)
    except Exit as exc:
        sys.exit(exc.exit_code)
    except NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(2)
    except ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        where = f" ({ctx.command_path} --help)" if ctx is not None else ""
        fail(exc.format_message() + where, exc.exit_code)
    except (Abort, KeyboardInterrupt):
        fail("aborted", 130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence for the operator
        text = str(exc).splitlines()[0] if str(exc) else ""
        fail(f"{type(exc).__name__}: {text}", 1)
