"""Set-up verbs: db, venue, leader, follower, mode (core/cli/mode.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from core.adapters.signers import REF_HELP
from core.cli import collateral as collateral_cli
from core.cli import follower_add as follower_add_cli
from core.cli import guards as guards_cli
from core.cli import leaders as leaders_cli
from core.cli import mode as mode_cli
from core.cli import notify as notify_cli
from core.cli import subaccounts as subaccounts_cli
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
from core.cli.guards import CLOSE_ON_STOP_HELP, DailyLossOpt, DrawdownOpt
from core.domain.errors import ConfigError, TransientError
from core.domain.rows import FollowerRow
from core.domain.signals import parse_address
from core.domain.sizing import parse_sizing, usd_text, usd_to_e6

if TYPE_CHECKING:
    from config.settings import Settings
    from core.ports import Signer

_svc = services  # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)


def _signer(ref: str) -> Signer:
    # start-up cost: the signer factory loads eth_account and coincurve (~0.5 s)
    from core.adapters.signers.factory import resolve

    return resolve(ref)


def _settings() -> Settings:
    # start-up cost: config.settings loads pydantic_settings, asyncio and ssl (~35 ms)
    from config.settings import get_settings

    return get_settings()


def _actor() -> str:
    return _settings().operator or "cli"


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="Database schema.", no_args_is_help=True)
    venue = typer.Typer(help="The venue router (dev chains).", no_args_is_help=True)
    leader = typer.Typer(help="Leaders to copy.", no_args_is_help=True)
    follower = typer.Typer(help="Followers and their policies.", no_args_is_help=True)
    mode = typer.Typer(
        help="Requested execution mode (stored in PostgreSQL).", no_args_is_help=True
    )
    collateral_cli.register(follower)
    subaccounts_cli.register(follower)
    notify_cli.register(follower, app)
    leaders_cli.register(leader)
    mode_cli.register(mode)
    for name, sub in (
        ("db", db),
        ("venue", venue),
        ("leader", leader),
        ("follower", follower),
        ("mode", mode),
    ):
        app.add_typer(sub, name=name)

    @db.command("upgrade")
    def db_upgrade() -> None:
        """Apply the Alembic migrations up to head."""
        # start-up cost: alembic and sqlalchemy
        from core.adapters.postgres.migrate import current_heads, upgrade

        url = _settings().database_url
        upgrade(url)
        console.print(f"database at revision {current_heads(url)}")

    @venue.command("deploy")
    def venue_deploy(
        signer: Annotated[str, typer.Option(help=f"Deployer signer: {REF_HELP}.")],
        price: Annotated[
            list[str], typer.Option(help="Initial price ASSET=USD (repeatable).")
        ] = [],  # noqa: B006
    ) -> None:
        """Deploy the PerpRouter and print its address (set COPYTRADE_VENUE_ADDRESS to it)."""
        from core.adapters.venue_admin import deploy  # start-up cost: web3

        prices = {}
        for p in price:
            asset, _, usd = p.partition("=")
            prices[asset.strip().upper()] = usd_to_e6(usd)
        s = _svc()
        print(deploy(s.chain, _signer(signer), s.settings.chain_id, prices))

    @venue.command("set-price")
    def venue_set_price(
        asset: Annotated[str, typer.Option()],
        usd: Annotated[str, typer.Option()],
        signer: Annotated[str, typer.Option(help=f"The router owner's signer: {REF_HELP}.")],
    ) -> None:
        """Set an asset's price on the router (owner only)."""
        from core.adapters.venue_admin import set_price  # start-up cost: web3

        s = _svc()
        venue_address = s.settings.venue_address or _missing_venue()
        set_price(
            s.chain,
            _signer(signer),
            s.settings.chain_id,
            venue_address,
            asset.upper(),
            usd_to_e6(usd),
        )
        console.print(f"{asset.upper()} = {usd} USD")

    @leader.command("add")
    def leader_add(
        address: Annotated[str, typer.Option("--address")],
        from_block: Annotated[
            int | None,
            typer.Option(
                "--from-block",
                min=0,
                help="Read this leader's trades from this block on (a back-fill). "
                "Default: from the next block, no history.",
            ),
        ] = None,
    ) -> None:
        """Register a leader to copy; the leader watcher follows its trades on the venue."""
        checked = parse_address(address)
        s = _svc()
        if from_block is not None:
            watched_to: int | None = from_block - 1
        else:
            try:
                watched_to = s.chain.block_number()  # from the next block on
            except TransientError:
                watched_to = None  # the watcher starts at the next block it reads
        lid, created = s.registry.add_leader(
            checked, _actor(), watched_to, rewind=from_block is not None
        )
        start = "next block" if watched_to is None else f"block {watched_to + 1}"
        console.print(
            f"leader {lid} {checked}" + ("" if created else " (already known)") + f", from {start}"
        )

    @leader.command("list")
    def leader_list(json_: Json = False) -> None:
        """List leaders."""
        rows = _svc().registry.list_leaders()
        if json_:
            emit_json(rows)
        else:
            table("leaders", ["id", "address"], [(r["id"], r["address"]) for r in rows])

    follower_add_cli.register(follower, _signer, _actor)

    @follower.command("list")
    def follower_list(
        json_: Json = False,
        all_: Annotated[bool, typer.Option("--all", help="Removed followers too.")] = False,
    ) -> None:
        """List followers with their policies (removed ones with --all)."""
        rows = [
            _follower_dict(f) for f in _svc().registry.list_followers() if all_ or not f.removed
        ]
        collateral = collateral_cli.held_columns(rows)
        standing = subaccounts_cli.standing_columns(rows)
        if json_:
            emit_json(rows)
            return
        cols = [
            "id",
            "account_id",
            "tg_user_id",
            "address",
            "paused",
            "circuit_breaker",
            "cohort",
            "max_leverage_x",
            "max_position_usd",
            "assets",
            "sizing",
            *(["usdc", "usdc_approved"] if collateral else []),
            *(["subaccount_of", "actions_left", "subaccount_expires_at"] if standing else []),
        ]
        table("followers", cols, [[r[c] for c in cols] for r in rows])

    @follower.command("unpause")
    def follower_unpause(follower_id: int, reason: Reason = None) -> None:
        """Unpause a follower."""
        _svc().registry.set_follower_flags(follower_id, _actor(), reason, paused=False)
        console.print(f"follower {follower_id} unpaused")

    @follower.command("set-signer")
    def follower_set_signer(
        follower_id: int,
        signer: Annotated[str, typer.Argument(help=f"The new key: {REF_HELP}.")],
        reason: Reason = None,
    ) -> None:
        """Rotate a follower's key: only when nothing signed by the old key is unfinished
        (new orders are then signed by the new key; fund its address first)."""
        address = _signer(signer).address  # a bad reference fails here, in one line
        _svc().registry.set_signer(follower_id, signer, address, _actor(), reason)
        console.print(f"follower {follower_id} now signs as {address}")

    @follower.command("set-policy")
    def follower_set_policy(
        follower_id: int,
        max_leverage: Annotated[Optional[int], typer.Option("--max-leverage", min=1)] = None,
        max_position_usd: Annotated[Optional[str], typer.Option("--max-position-usd")] = None,
        assets: Annotated[Optional[str], typer.Option()] = None,
        sizing: Annotated[Optional[str], typer.Option()] = None,
        max_slippage_bps: Annotated[Optional[int], typer.Option(min=0, max=5000)] = None,
        max_drawdown_bps: DrawdownOpt = None,
        max_daily_loss_usd: DailyLossOpt = None,
        close_on_stop: Annotated[
            Optional[bool],
            typer.Option("--close-on-stop/--keep-on-stop", help=CLOSE_ON_STOP_HELP),
        ] = None,
        circuit_breaker: Annotated[
            Optional[bool], typer.Option("--circuit-breaker/--no-circuit-breaker")
        ] = None,
        reason: Reason = None,
    ) -> None:
        """Change parts of a follower's policy; the rest stays."""
        # bad input fails first, without touching any server
        position = usd_to_e6(max_position_usd) if max_position_usd is not None else None
        allowed = parse_assets(assets) if assets is not None else None
        rule = parse_sizing(sizing) if sizing is not None else None
        s = _svc()
        old = s.registry.follower(follower_id).policy
        new = replace(
            old,
            max_leverage_x=max_leverage if max_leverage is not None else old.max_leverage_x,
            max_position_usd_1e6=position if position is not None else old.max_position_usd_1e6,
            assets=allowed if allowed is not None else old.assets,
            sizing=rule if rule is not None else old.sizing,
            max_slippage_bps=max_slippage_bps
            if max_slippage_bps is not None
            else old.max_slippage_bps,
            max_drawdown_bps=(max_drawdown_bps or None)
            if max_drawdown_bps is not None
            else old.max_drawdown_bps,
            max_daily_loss_usd_1e6=usd_limit(max_daily_loss_usd)
            if max_daily_loss_usd is not None
            else old.max_daily_loss_usd_1e6,
            close_on_stop=close_on_stop if close_on_stop is not None else old.close_on_stop,
        )
        s.registry.set_policy(follower_id, new, _actor(), reason)
        if circuit_breaker is not None:
            s.registry.set_follower_flags(
                follower_id, _actor(), reason, circuit_breaker=circuit_breaker
            )
        console.print(f"follower {follower_id} policy updated")

    guards_cli.register(follower)
    cohort = typer.Typer(help="The canary live cohort.", no_args_is_help=True)
    follower.add_typer(cohort, name="cohort")

    @cohort.command("add")
    def cohort_add(follower_id: int, reason: Reason = None) -> None:
        """Put a follower in the canary live cohort."""
        _svc().registry.set_follower_flags(follower_id, _actor(), reason, in_cohort=True)
        console.print(f"follower {follower_id} in the live cohort")

    @cohort.command("remove")
    def cohort_remove(follower_id: int, reason: Reason = None) -> None:
        """Take a follower out of the canary live cohort (it then runs DRY)."""
        _svc().registry.set_follower_flags(follower_id, _actor(), reason, in_cohort=False)
        console.print(f"follower {follower_id} out of the live cohort")


def _missing_venue() -> str:
    raise ConfigError("COPYTRADE_VENUE_ADDRESS is not set")


def _follower_dict(f: object) -> dict[str, object]:
    assert isinstance(f, FollowerRow)
    p = f.policy
    return {
        "id": f.id,
        "account_id": f.account_id,
        "tg_user_id": f.tg_user_id,
        "leader": f.leader_address,
        "address": f.address,
        "account": f.account,
        "subaccount_of": f.subaccount_of,
        "signer_ref": f.signer_ref,
        "paused": f.paused,
        "circuit_breaker": f.circuit_breaker,
        "cohort": f.in_cohort,
        "max_leverage_x": p.max_leverage_x,
        "max_position_usd": usd_text(p.max_position_usd_1e6),
        "max_position_usd_1e6": p.max_position_usd_1e6,
        "assets": ",".join(sorted(p.assets)),
        "sizing": str(p.sizing),
        "max_slippage_bps": p.max_slippage_bps,
        "max_drawdown_bps": p.max_drawdown_bps,
        "max_daily_loss_usd": None
        if p.max_daily_loss_usd_1e6 is None
        else usd_text(p.max_daily_loss_usd_1e6),
        "close_on_stop": p.close_on_stop,
        "removed": f.removed,
    }
