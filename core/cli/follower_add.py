"""`copytrade follower add`: a following of a leader, in a new follower account or an
existing one (`--account`), with its key (or a GMX subaccount's) and its policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Optional

import typer

from core.adapters.signers import REF_HELP
from core.cli.common import Json, console, emit_json, parse_assets, services, usd_limit
from core.cli.guards import CloseOnStopOpt, DailyLossOpt, DrawdownOpt
from core.domain.errors import ConfigError, RejectedSignal
from core.domain.risk import Policy
from core.domain.signals import parse_address
from core.domain.sizing import parse_sizing, usd_to_e6


def register(
    follower: typer.Typer, _signer: Callable[[str], Any], _actor: Callable[[], str]
) -> None:
    @follower.command("add")
    def follower_add(
        leader_address: Annotated[str, typer.Option("--leader")],
        max_leverage: Annotated[int, typer.Option("--max-leverage", min=1)],
        max_position_usd: Annotated[str, typer.Option("--max-position-usd")],
        assets: Annotated[str, typer.Option(help="Allowed assets, e.g. BTC,ETH")],
        sizing: Annotated[
            str,
            typer.Option(
                help="fixed-notional:USD | fixed-size:UNITS | ratio:R | "
                "equity:FOLLOWER_USD/LEADER_USD | equity-ratio[:M] (both equities read "
                "from the venue when sized, GMX)"
            ),
        ],
        max_slippage_bps: Annotated[int, typer.Option(min=0, max=5000)] = 50,
        max_drawdown_bps: DrawdownOpt = None,
        max_daily_loss_usd: DailyLossOpt = None,
        close_on_stop: CloseOnStopOpt = False,
        cohort: Annotated[bool, typer.Option(help="In the canary live cohort.")] = False,
        tg_user_id: Annotated[Optional[int], typer.Option("--tg-user-id")] = None,
        signer: Annotated[
            Optional[str], typer.Option(help=f"The follower's key: {REF_HELP}.")
        ] = None,
        account: Annotated[
            Optional[int],
            typer.Option(
                "--account",
                help="Add this leader to an existing follower account (its wallet, key and "
                "owner; `copytrade account list`); without it a new account is made.",
            ),
        ] = None,
        subaccount_of: Annotated[
            Optional[str],
            typer.Option(
                "--subaccount-of",
                help="GMX: the key is this wallet's subaccount (orders, positions and "
                "collateral are the wallet's; the key pays gas and fees). Also written "
                "--signer subaccount:WALLET:REF.",
            ),
        ] = None,
        json_: Json = False,
    ) -> None:
        """Add a follower copying LEADER with its own signer and policy."""
        policy = Policy(  # bad input fails first, without touching any server
            max_leverage,
            usd_to_e6(max_position_usd),
            parse_assets(assets),
            parse_sizing(sizing),
            max_slippage_bps,
            max_drawdown_bps=max_drawdown_bps or None,
            max_daily_loss_usd_1e6=usd_limit(max_daily_loss_usd),
            close_on_stop=close_on_stop,
        )
        checked = parse_address(leader_address)
        s = services()
        if account is not None:  # the account's key, wallet and owner, unless given
            same = [f for f in s.registry.list_followers() if f.account_id == account]
            if same:
                signer = signer or same[0].signer_ref
                subaccount_of = subaccount_of or same[0].subaccount_of
                tg_user_id = tg_user_id if tg_user_id is not None else same[0].tg_user_id
        if signer is None or tg_user_id is None:
            raise RejectedSignal("missing_option", "give --signer and --tg-user-id (or --account)")
        wallet, signer = subaccount_ref(signer, subaccount_of)
        lid = s.registry.leader_id(checked)
        if lid is None:
            raise RejectedSignal("unknown_leader", f"{leader_address}: add it with `leader add`")
        if wallet is not None and s.settings.venue != "gmx":
            raise ConfigError(
                f"subaccounts are GMX's; COPYTRADE_VENUE is {s.settings.venue!r}: the "
                "follower's key must be its wallet's"
            )
        if wallet is not None and not s.gmx.subaccount_router:
            raise ConfigError(
                "no SubaccountRouter configured: add subaccount_router to "
                "COPYTRADE_GMX_CONTRACTS before a follower trades through a subaccount"
            )
        address = _signer(signer).address  # fails here, not at the first trade
        if wallet is not None and wallet.lower() == address.lower():
            raise RejectedSignal("bad_subaccount", f"{wallet} is the key's own address")
        fid = s.registry.add_follower(
            tg_user_id=tg_user_id,
            leader_id=lid,
            signer_ref=signer,
            address=address,
            policy=policy,
            in_cohort=cohort,
            actor=_actor(),
            subaccount_of=wallet,
            account_id=account,
        )
        if json_:
            account_id = s.registry.follower(fid).account_id
            emit_json(
                {"id": fid, "address": address, "subaccount_of": wallet, "account_id": account_id}
            )
        elif wallet:
            console.print(
                f"follower {fid} {address}, a subaccount of {wallet} (the wallet's one-time "
                f"calls: copytrade follower subaccount-setup {fid})"
            )
        else:
            console.print(f"follower {fid} {address}")


SUBACCOUNT_PREFIX = "subaccount:"


def subaccount_ref(signer: str, subaccount_of: str | None) -> tuple[str | None, str]:
    """(the wallet, the key's own reference) from `--signer subaccount:WALLET:REF` or
    `--subaccount-of WALLET`; (None, signer) for a key trading for itself."""
    wallet = subaccount_of
    if signer.startswith(SUBACCOUNT_PREFIX):
        given, _, ref = signer[len(SUBACCOUNT_PREFIX) :].partition(":")
        if not ref:
            raise RejectedSignal(
                "bad_signer", "subaccount:WALLET:REF, e.g. subaccount:0xWallet…:env:SUB_KEY"
            )
        if wallet is not None and wallet.lower() != given.lower():
            raise RejectedSignal("bad_subaccount", "--subaccount-of and --signer disagree")
        wallet, signer = given, ref
    return (None if wallet is None else parse_address(wallet, "the wallet")), signer
