"""`copytrade follower approve`: the follower's one-time approval of the venue for its
collateral (GMX: USDC to GMX's Router), and the collateral columns of `follower list`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from core.cli.common import console, console_err, emit_json
from core.domain.errors import ConfigError, CopytradeError
from core.domain.sizing import usd_text, usd_to_e6

if TYPE_CHECKING:
    from core.bootstrap import Services

TOKENS = ("USDC",)  # the collateral the venue takes (GMX: the markets' USDC side)


def _svc() -> Services:
    # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)
    from core.bootstrap import services

    return services()


def held_columns(rows: list[dict[str, Any]]) -> bool:
    """Add each follower's collateral balance and allowance (read from the chain in one
    batch) to `rows`; False on a venue that takes no collateral (nothing added)."""
    try:
        held = _svc().approvals.held([str(r["account"]) for r in rows])
    except CopytradeError as exc:  # a read-only listing does not need the node
        console_err.print(f"[yellow]collateral not shown: {exc}[/]")
        return False
    if not held:
        return False
    for r in rows:
        balance, allowed = held[str(r["account"])]
        r["usdc"], r["usdc_approved"] = usd_text(balance), usd_text(allowed)
        r["usdc_1e6"], r["usdc_approved_1e6"] = balance, allowed
    return True


def register(follower: typer.Typer) -> None:
    @follower.command("approve")
    def follower_approve(
        follower_id: int,
        amount: Annotated[str, typer.Option("--amount", help="USD of collateral, e.g. 1000")],
        token: Annotated[str, typer.Option("--token", help="The collateral token.")] = "USDC",
        reason: Annotated[
            Optional[str], typer.Option("--reason", help="Why (goes to the audit log).")
        ] = None,
        json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Approve the venue (GMX: its Router) to take up to AMOUNT of the follower's
        collateral, from the follower's own wallet: once, before its first order. Nothing
        is sent when the allowance already covers it; refused while any of its orders is
        unfinished. Audited as follower.approve."""
        from config.settings import get_settings  # start-up cost: pydantic_settings

        if token.upper() not in TOKENS:
            raise typer.BadParameter(f"--token {token!r}: the venue takes {', '.join(TOKENS)}")
        try:
            amount_1e6 = usd_to_e6(amount)
        except (ValueError, ArithmeticError):
            raise typer.BadParameter(f"--amount {amount!r}: a USD amount, e.g. 1000") from None
        s = _svc()
        if not s.approvals.takes_collateral:
            raise ConfigError(
                f"the {s.settings.venue} venue takes no collateral: nothing to approve"
            )
        got = s.approvals.approve(
            s.registry.follower(follower_id),
            amount_1e6,
            get_settings().operator or "cli",
            reason,
        )
        out = {
            "follower_id": got.follower_id,
            "address": got.address,
            "amount_usd": usd_text(got.amount_usd_1e6),
            "allowance_before_usd": usd_text(got.allowance_before_usd_1e6),
            "tx_hash": got.tx_hash,
            "sent": got.tx_hash is not None,
        }
        if json_:
            emit_json(out)
        elif got.tx_hash is None:
            console.print(
                f"follower {follower_id}: already approved "
                f"({out['allowance_before_usd']} USDC >= {out['amount_usd']}); nothing sent"
            )
        else:
            console.print(
                f"follower {follower_id}: approved {out['amount_usd']} USDC ({got.tx_hash})"
            )
