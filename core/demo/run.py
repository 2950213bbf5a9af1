"""`copytrade demo`: the whole job on an embedded stack, then everything stopped."""

from __future__ import annotations

import atexit
import json
import logging
import secrets
import shutil
import signal
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.demo import notices
from core.demo.embedded import INTERRUPTED, Embedded, Interrupted, check_interrupt
from core.demo.scenario import KEEPER_MOVE_BPS, PERSONAS, PRICES, SIGNALS
from core.demo.stack import (
    deploy_gmx,
    go_live,
    keystore,
    migrate_and_deploy,
    settings_env,
    start_processes,
    use,
    wait_ready,
)
from core.domain.risk import Policy, project_exposure
from core.domain.sizing import parse_sizing, usd_text, usd_to_e6
from core.domain.types import CANCEL_ACTION, USD, Action
from core.services.status import gather

log = logging.getLogger(__name__)
TERMINAL = {
    "confirmed",
    "reverted",
    "rejected",
    "dry_run",
    "failed",
    "cancelled",
    "venue_cancelled",
}
VENUES = ("gmx", "simple")


def run(followers: int, signals: int, keep: bool, as_json: bool, venue: str = "gmx") -> int:
    # Ctrl-C / SIGTERM only set a flag; the demo's loops check it at safe points and unwind
    # through the `finally` below, which stops every child by PID. (Raising from the handler
    # could land inside a library callback that swallows it.) Installed explicitly because
    # a parent may have started us with SIGINT ignored.
    signal.signal(signal.SIGINT, lambda *_: INTERRUPTED.set())
    signal.signal(signal.SIGTERM, lambda *_: INTERRUPTED.set())
    console = Console(stderr=as_json, width=max(120, shutil.get_terminal_size().columns))
    tmp = Path(tempfile.mkdtemp(prefix="copytrade-demo-"))
    if not keep:
        # Registered before pgserver registers its own exit hook, so it runs after it
        # (exit hooks run last-in first-out) and removes what that hook leaves behind.
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    emb = Embedded(tmp)
    try:
        return _run(emb, console, followers, signals, as_json, venue)
    except Interrupted:
        console.print("[yellow]interrupted[/]")
        return 130
    finally:
        KEEPER_STOP.set()
        with console.status("stopping everything the demo started"):
            emb.stop()
        if keep:
            console.print(
                f"[bold]kept[/] {tmp}: logs in {tmp / 'logs'}, PostgreSQL data in "
                f'{tmp / "pg"} (inspect: python -c "import pgserver; '
                f"print(pgserver.get_server('{tmp / 'pg'}').psql('\\\\dt'))\")"
            )
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _run(
    emb: Embedded, console: Console, n_followers: int, n_signals: int, as_json: bool, venue: str
) -> int:
    from core.adapters.gmx.keeper import DevKeeper  # start-up cost: web3
    from core.adapters.gmx.local import fund_followers  # start-up cost: web3
    from core.adapters.signers.factory import resolve  # start-up cost: eth_account
    from core.adapters.signers.local import LocalSigner  # start-up cost: coincurve

    console.rule(
        f"[bold]copytrade demo[/]: one leader, {n_followers} followers, {n_signals} signals"
    )
    console.print(f"working in {emb.dir}")
    with console.status("starting embedded PostgreSQL 16, Redis and anvil"):
        emb.start_postgres()
        emb.start_redis()
        emb.start_anvil()
    env = settings_env(emb, COPYTRADE_PROFILE="canary", COPYTRADE_OPERATOR="demo")
    gmx = keeper = None
    with console.status(f"deploying the {venue} venue"):
        if venue == "gmx":
            _, env, gmx, keeper = deploy_gmx(env)
        else:
            _, env = migrate_and_deploy(env)
    s = use(env)  # this process too (status, verify): the stack's settings only
    where = s.venue_address
    console.print(
        f"PostgreSQL {emb.database_url.split('?')[0]}, Redis {emb.redis_socket}, "
        f"anvil {emb.rpc_url}, {venue} venue {where}"
    )
    workers = start_processes(emb, env)

    leader = LocalSigner.from_key(secrets.token_hex(32)).address
    lid, _ = s.registry.add_leader(leader, "demo")
    keys = emb.dir / "keys"
    keys.mkdir()
    cast: list[tuple[int, str, str]] = []
    refs: list[str] = []
    wallets: dict[str, Any] = {}  # a subaccount's key ref -> the wallet it trades for
    for i in range(n_followers):
        check_interrupt()
        p = PERSONAS[i % len(PERSONAS)]
        ref, address = keystore(keys)
        s.chain.rpc("anvil_setBalance", address, hex(10**19))
        policy = Policy(
            p.max_leverage,
            usd_to_e6(p.max_position_usd),
            frozenset(p.assets.split(",")),
            parse_sizing(p.sizing),
            p.slippage_bps,
        )
        wallet = None
        if p.subaccount and gmx is not None:
            wallet = LocalSigner.from_key(secrets.token_hex(32))
            s.chain.rpc("anvil_setBalance", wallet.address, hex(10**19))
            wallets[ref] = wallet
        fid = s.registry.add_follower(
            tg_user_id=1000 + i,
            leader_id=lid,
            signer_ref=ref,
            address=address,
            policy=policy,
            in_cohort=p.cohort,
            actor="demo",
            subaccount_of=None if wallet is None else wallet.address,
        )
        if p.paused:
            s.registry.set_follower_flags(fid, "demo", "demo persona", paused=True)
        cast.append((fid, p.name, address if wallet is None else wallet.address))
        refs.append(ref)
    if gmx is not None and keeper is not None:
        with console.status(f"funding {n_followers} followers with USDC, approving GMX's router"):
            funded = [wallets.get(r) or resolve(r) for r in refs]  # a subaccount's: its wallet
            fund_followers(s.chain, keeper, 31337, gmx, funded, 1_000 * USD)
        for ref, wallet in wallets.items():
            sub_address = resolve(ref).address
            _grant_subaccount(s, wallet, sub_address)
            console.print(
                f"subaccount {sub_address} may trade for wallet {wallet.address} "
                f"({SUBACCOUNT_ACTIONS} actions, 30 days): the demo holds no key of the wallet"
            )
        dev_keeper = DevKeeper(
            s.chain,
            keeper,
            31337,
            gmx,
            {a: usd_to_e6(p) for a, p in PRICES.items()},
            delay_s=0.5,
            move_bps=KEEPER_MOVE_BPS,
        )
        keeping = threading.Thread(
            target=dev_keeper.run,
            kwargs={"period_s": 0.2, "stop": KEEPER_STOP},  # set before the stack goes down
            daemon=True,
            name="keeper",
        )
        keeping.start()
        console.print(
            f"dev keeper: executes requests 0.5 s after they land, {KEEPER_MOVE_BPS} bps "
            "against the trader"
        )
    receiver = notices.listen(s, [fid for fid, _, _ in cast])
    wait_ready(emb, workers)
    with console.status("LIVE requested; waiting for 3 consecutive heartbeats") as st:
        v = go_live(
            s,
            "demo",
            lambda v: st.update(
                f"LIVE requested; effective DRY ({v.reason}), streak {v.streak or 0}/3"
            ),
        )
    console.print(f"[green]effective mode LIVE[/] (streak {v.streak})")

    signal_ids = []
    for k in range(n_signals):
        check_interrupt()
        action, asset, side, coll, lev, price = SIGNALS[k % len(SIGNALS)]
        sid = f"demo-{k}-{uuid.uuid4().hex[:8]}"
        answer = s.intake.submit(
            {
                "schema": 1,
                "signal_id": sid,
                "leader": leader,
                "action": action,
                "asset": asset,
                "side": side,
                "collateral_usd_1e6": usd_to_e6(coll),
                "leverage_x": lev,
                "price_usd_1e6": usd_to_e6(price),
            },
            source="demo",
        )
        console.print(f"signal {sid}: {action} {asset} {side} {coll} USD x{lev} -> {answer.status}")
        signal_ids.append(sid)
    from core.adapters.postgres.reads.queries import Queries  # start-up cost: sqlalchemy

    q = Queries(s.db)
    total = n_followers * n_signals
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("intents", total=total)
        deadline = time.monotonic() + 120 + 5 * n_signals
        while True:
            check_interrupt()
            rows = [r for sid in signal_ids for r in q.intents(signal_id=sid)]
            by: dict[str, int] = {}
            for r in rows:
                by[r["state"]] = by.get(r["state"], 0) + 1
            done = sum(n for st_, n in by.items() if st_ in TERMINAL)
            bar.update(
                task,
                completed=done,
                description=" ".join(f"{k}:{v}" for k, v in sorted(by.items())),
            )
            if len(rows) == total and done == total:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"intents not terminal in time: {by}")
            time.sleep(0.2)
    try:
        told = notices.show(s, receiver, cast, console, quiet=as_json)
    finally:
        receiver.down()
    return _report(s, q, console, cast, signal_ids, where, as_json, told)


KEEPER_STOP = threading.Event()
SUBACCOUNT_ACTIONS = 100


def _grant_subaccount(s: Any, wallet: Any, sub_address: str) -> None:
    """The wallet's one-time calls (what `follower subaccount-setup` prints), sent."""
    from core.adapters.venue_admin import send_and_wait  # start-up cost: web3

    expires_at = s.chain.head_time() + 30 * 86_400
    for c in s.venue.subaccount_setup_calls(sub_address, SUBACCOUNT_ACTIONS, expires_at):
        send_and_wait(s.chain, wallet, 31337, c.to, c.data, gas=500_000)


def _held(s: Any, trader: str, asset: str) -> int:
    """The trader's position on the venue, read through the venue port (either venue)."""
    c = s.venue.position_call(trader, asset)
    return int(s.venue.decode_position(asset, s.chain.call(c.to, c.data)).size_usd_1e6)


def _usd(value_e6: int) -> str:
    return usd_text(value_e6)


def _report(
    s: Any,
    q: Any,
    console: Console,
    cast: list[tuple[int, str, str]],
    signal_ids: list[str],
    venue: str,
    as_json: bool,
    told: list[dict[str, Any]],
) -> int:
    table = Table(title="followers: one row per intent")
    for col in (
        "id",
        "persona",
        "signal",
        "outcome",
        "nonce",
        "tx hash",
        "block",
        "fill",
        "BTC held",
        "ETH held",
    ):
        table.add_column(col, no_wrap=col != "outcome")
    out: list[dict[str, Any]] = []
    ok = True
    for fid, name, address in cast:
        intents = [i for sid in signal_ids for i in q.intents(signal_id=sid, follower_id=fid)]
        held = {a: _held(s, address, a) for a in PRICES}
        for asset in PRICES:
            legs = [
                (Action(i["action"]), i["notional_usd_1e6"] or 0)
                for i in intents
                if i["asset"] == asset
                and i["state"] == "confirmed"
                and i["action"] != CANCEL_ACTION  # copytrade's cancel of a request: no position
            ]
            if project_exposure(legs) != held[asset]:
                ok = False
        for n, i in enumerate(intents):
            last = n == len(intents) - 1
            reason = (i["reason"] or "").split(":")[0]
            table.add_row(
                str(fid) if n == 0 else "",
                name if n == 0 else "",
                f"{i['action']} {i['asset']}",
                i["state"] + (f": {reason}" if reason else ""),
                "" if i["nonce"] is None else str(i["nonce"]),
                (i["tx_hash"] or "")[:12],
                str(i["block_number"] or ""),
                "" if i["fill_price_usd_1e6"] is None else _usd(i["fill_price_usd_1e6"]),
                _usd(held["BTC"]) if last else "",
                _usd(held["ETH"]) if last else "",
                end_section=last,
            )
        out.append(
            {
                "id": fid,
                "persona": name,
                "address": address,
                "subaccount_of": s.registry.follower(fid).subaccount_of,
                "positions_usd_1e6": held,
                "intents": [
                    {
                        k: i[k]
                        for k in (
                            "signal_id",
                            "state",
                            "reason",
                            "nonce",
                            "tx_hash",
                            "block_number",
                            "venue_order_key",
                            "fill_price_usd_1e6",
                            "fill_size_usd_1e6",
                        )
                    }
                    for i in intents
                ],
            }
        )
    status = gather(s)
    if as_json:
        print(
            json.dumps(
                {
                    "ok": ok,
                    "venue": venue,
                    "followers": out,
                    "notifications": told,
                    "status": status,
                },
                default=str,
                indent=2,
            )
        )
    else:
        console.print(table)
        st = Table(title="copytrade status")
        st.add_column("")
        st.add_column("value")
        for k, v in status.items():
            st.add_row(k, json.dumps(v) if isinstance(v, dict) else str(v))
        console.print(st)
    console.print(
        "[green]positions on chain match the confirmed intents[/]"
        if ok
        else "[red]positions on chain differ from the confirmed intents[/]"
    )
    return 0 if ok else 1
