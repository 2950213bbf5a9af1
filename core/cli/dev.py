"""Local-stack verbs (`copytrade dev …`): deploy the local GMX-compatible venue and run its
keeper. They refuse any chain but a local dev node's (chain id 31337: anvil, hardhat)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.adapters.signers import REF_HELP
from core.cli.common import console, emit_json
from core.domain.errors import ConfigError

if TYPE_CHECKING:
    from core.bootstrap import Services

LOCAL_CHAIN_ID = 31337


def _local() -> Services:
    # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)
    from core.bootstrap import services

    s = services()
    if s.settings.chain_id != LOCAL_CHAIN_ID:
        raise ConfigError(
            f"copytrade dev runs on a local dev chain only (COPYTRADE_CHAIN_ID "
            f"{s.settings.chain_id}, not {LOCAL_CHAIN_ID})"
        )
    return s


def register(app: typer.Typer) -> None:
    dev = typer.Typer(help="Local dev stacks: the local GMX venue and its keeper.")
    app.add_typer(dev, name="dev", no_args_is_help=True)

    @dev.command("gmx-deploy")
    def gmx_deploy(
        signer: Annotated[str, typer.Option(help=f"Deployer (and keeper): {REF_HELP}.")],
        out: Annotated[Path, typer.Option(help="Where to write the deployment (JSON).")],
        market: Annotated[
            list[str] | None, typer.Option(help="ASSET=INDEX_DECIMALS (repeatable).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Deploy the local GMX-compatible venue; print the COPYTRADE_* settings for it."""
        from core.adapters.gmx.local import deploy_local_gmx, settings_for  # start-up cost: web3
        from core.adapters.signers.factory import resolve  # start-up cost: eth_account

        markets: dict[str, int] = {}
        for m in market or ["ETH=18", "BTC=8"]:
            asset, _, decimals = m.partition("=")
            if not decimals.isdigit():
                raise ConfigError(f"--market {m!r}: ASSET=INDEX_DECIMALS, e.g. ETH=18")
            markets[asset.strip().upper()] = int(decimals)
        s = _local()
        gmx = deploy_local_gmx(s.chain, resolve(signer), LOCAL_CHAIN_ID, markets)
        out.write_text(json.dumps(asdict(gmx), indent=2) + "\n")
        env = settings_for(gmx)
        if as_json:
            emit_json(env)
            return
        for k, v in env.items():
            print(f"{k}='{v}'")

    @dev.command("keeper")
    def keeper(
        signer: Annotated[
            str, typer.Option(help=f"A keeper of the venue (the deployer): {REF_HELP}.")
        ],
        deployment: Annotated[Path, typer.Option(help="The JSON `dev gmx-deploy` wrote.")],
        action: Annotated[
            str, typer.Option(help="execute | cancel | never (requests then expire).")
        ] = "execute",
        delay_s: Annotated[float, typer.Option(help="Act this long after a request.")] = 1.0,
        move_bps: Annotated[
            int, typer.Option(help="Execute at the price moved this much against the trader.")
        ] = 0,
        rounds: Annotated[int, typer.Option(help="Stop after this many rounds (0: never).")] = 0,
    ) -> None:
        """Execute (or cancel) the local venue's pending orders at COPYTRADE_GMX_PRICES."""
        from core.adapters.gmx.keeper import DevKeeper  # start-up cost: web3
        from core.adapters.gmx.local import LocalGmx  # start-up cost: web3
        from core.adapters.prices import parse_prices  # start-up cost: requests
        from core.adapters.signers.factory import resolve  # start-up cost: eth_account

        s = _local()
        gmx = LocalGmx(**json.loads(deployment.read_text()))
        prices = parse_prices(s.settings.gmx_prices)
        missing = sorted(set(gmx.markets) - set(prices))
        if missing:
            raise ConfigError(f"COPYTRADE_GMX_PRICES has no price for {', '.join(missing)}")
        k = DevKeeper(
            s.chain,
            resolve(signer),
            LOCAL_CHAIN_ID,
            gmx,
            prices,
            delay_s,
            action,
            move_bps,
        )
        console.print(f"keeper: {action} after {delay_s}s, moved {move_bps} bps")
        k.run(rounds=rounds or None)
