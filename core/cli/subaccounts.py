"""GMX subaccounts from the command line: `copytrade follower subaccount-setup ID` (the
wallet's one-time calls, printed, or sent once with the wallet's key) and the subaccount
columns of `follower list` (actions left and expiry, read from the venue)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from core.adapters.signers import REF_HELP
from core.cli.common import console, console_err, emit_json, table
from core.domain import subaccounts
from core.domain.errors import ConfigError, CopytradeError, UnsafeToSend
from core.domain.sizing import usd_text, usd_to_e6
from core.services import subaccount_checks

if TYPE_CHECKING:
    from core.bootstrap import Services

DAY_S = 86_400


def _svc() -> Services:
    # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)
    from core.bootstrap import services

    return services()


def _when(unix_s: int) -> str:
    return "never set" if unix_s == 0 else datetime.fromtimestamp(unix_s, UTC).isoformat()


def standing_columns(rows: list[dict[str, Any]]) -> bool:
    """Add each subaccount follower's actions left and expiry (one batch of reads) to
    `rows`; False when no follower trades through a subaccount (nothing added)."""
    if not any(r.get("subaccount_of") for r in rows):
        return False
    s = _svc()
    try:
        found, now = subaccount_checks.follower_standings(
            s.registry.list_followers(), s.venue, s.chain
        )
    except CopytradeError as exc:  # a read-only listing does not need the node
        console_err.print(f"[yellow]subaccount standing not shown: {exc}[/]")
        return False
    for r in rows:
        t = found.get(int(r["id"]))
        if t is None:
            r["actions_left"] = r["subaccount_expires_at"] = r["subaccount_refused"] = None
            continue
        r["actions_left"] = t.remaining if t.authorized else 0
        r["actions_max"] = t.max_actions
        r["subaccount_expires_at"] = _when(t.expires_at)
        r["subaccount_refused"] = subaccounts.refusal(t, now)
    return True


def register(follower: typer.Typer) -> None:
    @follower.command("subaccount-setup")
    def subaccount_setup(
        follower_id: int,
        max_actions: Annotated[
            int,
            typer.Option(
                "--max-actions",
                min=1,
                help="The lifetime budget of order actions (each create and cancel uses "
                "one; GMX never resets the count, so a renewal grants more than used).",
            ),
        ] = 1000,
        expires_in_days: Annotated[
            int, typer.Option("--expires-in-days", min=1, max=3650, help="From now.")
        ] = 30,
        approve_usd: Annotated[
            Optional[str],
            typer.Option(
                "--approve-usd",
                help="Also approve GMX's Router for this much of the wallet's USDC (the "
                "subaccount's orders pull their collateral from the wallet through it).",
            ),
        ] = None,
        wallet_signer: Annotated[
            Optional[str],
            typer.Option(
                "--wallet-signer",
                help=f"Send the calls now with the wallet's key ({REF_HELP}); used once, "
                "never stored. Without it the calls are printed for the wallet to send.",
            ),
        ] = None,
        reason: Annotated[
            Optional[str], typer.Option("--reason", help="Why (goes to the audit log).")
        ] = None,
        json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """The wallet's one-time calls that let a follower's key trade for it as its GMX
        subaccount: add the subaccount, its action budget, its expiry (and, with
        --approve-usd, the Router's USDC allowance). Printed as (to, data) for the wallet
        to send; with --wallet-signer, sent and awaited here."""
        try:
            approve_1e6 = None if approve_usd is None else usd_to_e6(approve_usd)
        except (ValueError, ArithmeticError):
            raise typer.BadParameter(f"--approve-usd {approve_usd!r}: a USD amount") from None
        s = _svc()
        f = s.registry.follower(follower_id)
        if not f.subaccount_of:
            raise ConfigError(
                f"follower {follower_id} signs for its own address {f.address}: no subaccount "
                "(add one with `follower add --subaccount-of WALLET`)"
            )
        expires_at = s.chain.head_time() + expires_in_days * DAY_S
        calls = [("subaccount", c) for c in s.venue.subaccount_setup_calls(
            f.address, max_actions, expires_at
        )]  # fmt: skip
        if approve_1e6 is not None:
            approve = s.venue.approve_call(approve_1e6)
            if approve is not None:
                calls.append((f"approve {usd_text(approve_1e6)} USDC to the Router", approve))
        out: dict[str, Any] = {
            "follower_id": follower_id,
            "wallet": f.subaccount_of,
            "subaccount": f.address,
            "max_actions": max_actions,
            "expires_at": expires_at,
            "calls": [
                {"what": what, "from": f.subaccount_of, "to": c.to, "data": "0x" + c.data.hex()}
                for what, c in calls
            ],
            "sent": [],
        }
        if wallet_signer is not None:
            out["sent"] = _send(s, f.subaccount_of, wallet_signer, [c for _, c in calls])
            s.registry.audit(
                s.settings.operator or "cli",
                "follower.subaccount_setup",
                reason,
                follower_id=follower_id,
                wallet=f.subaccount_of,
                subaccount=f.address,
                max_actions=max_actions,
                expires_at=expires_at,
                approve_usd_1e6=approve_1e6,
                tx_hashes=out["sent"],
            )
        if json_:
            emit_json(out)
            return
        rows = [(c["what"], c["to"], c["data"]) for c in out["calls"]]
        table(f"from the wallet {f.subaccount_of}", ["call", "to", "data"], rows)
        if out["sent"]:
            console.print(f"sent and mined: {', '.join(out['sent'])}")
        else:
            console.print(
                f"send each call from {f.subaccount_of} (value 0); the subaccount "
                f"{f.address} may then act {max_actions} times until {_when(expires_at)}"
            )


def _send(s: Services, wallet: str, ref: str, calls: list[Any]) -> list[str]:
    """Each call from the wallet, in order, each awaited (set-up, not an order: it goes
    out in DRY too, never while the emergency stop is on)."""
    from core.adapters.signers.factory import resolve  # start-up cost: eth_account, coincurve
    from core.adapters.venue_admin import send_and_wait  # start-up cost: web3

    signer = resolve(ref)
    if signer.address.lower() != wallet.lower():
        raise ConfigError(f"--wallet-signer is {signer.address}, not the wallet {wallet}")
    hashes = []
    for c in calls:
        if s.mode.stopped():
            raise UnsafeToSend("the emergency stop is on: `copytrade resume` first")
        _, raw = send_and_wait(s.chain, signer, s.settings.chain_id, c.to, c.data, gas=500_000)
        hashes.append(str(raw["transactionHash"]))
    return hashes
