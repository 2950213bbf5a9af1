"""Operations verbs: heartbeat, status, stop, resume."""

from __future__ import annotations

import signal
import threading
from typing import Annotated, Any

import typer
from rich.columns import Columns
from rich.table import Table

from core.cli.common import console, emit_json, table
from core.domain.rows import OpenWindow
from core.logs import setup as setup_logging
from core.services.heartbeat import run as run_heartbeat
from core.services.resuming import resume as resume_service
from core.services.status import gather
from core.services.verify import verify

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
# One string per paragraph: this Typer keeps a docstring's line breaks after the first one.
VERIFY_HELP = (
    "Check nonces, orders on chain and signals against the data.\n\n"
    "Exit 0: no breach. "
    "Exit 1: one breach or more, each printed (an unexpected internal error also exits 1, "
    "as `error: <Type>: …`). "
    "Exit 2: the check could not run, said on stderr as `error: …`: the node is on the "
    "wrong chain (WrongChain: its chain id or genesis differs from COPYTRADE_CHAIN_ID or "
    "from the one recorded at first start; fix COPYTRADE_RPC_URL), PostgreSQL or every "
    "RPC endpoint is unreachable, or a setting is invalid."
)
NeedReason = Annotated[str, typer.Option("--reason", help="Why (required; audit-logged).")]


def _svc() -> Any:
    # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)
    from core.bootstrap import services

    return services()


def _actor() -> str:
    # start-up cost: config.settings loads pydantic_settings, asyncio and ssl (~35 ms)
    from config.settings import get_settings

    return get_settings().operator or "cli"


def status_data() -> dict[str, Any]:
    return gather(_svc())


def _show_status(d: dict[str, Any]) -> None:
    """One screen: the facts, then the counts, then whatever needs a look."""

    def small(title: str, rows: Any) -> Table:
        t = Table(title=title, show_header=False, title_justify="left")
        if isinstance(rows, str):
            rows = [("", rows)]
        for k, v in rows:
            t.add_row(str(k), "" if v is None else str(v))
        return t

    mode = [
        (k, d[k])
        for k in (
            "requested_mode",
            "effective_mode",
            "why_not_live",
            "redis_streak",
            "heartbeat_age_s",
            "emergency_stop",
            "profile",
        )
    ]
    head = d["chain_head"]
    if isinstance(head, dict):
        head = head["stalled"] or f"block {head['block']} ({head['age_s']} s old)"
    flow = [
        ("chain head", head),
        ("stuck", d["stuck"]),
        ("held", d["held"]),
        ("signed_past_max_age", d["signed_past_max_age"]),
        ("nonces_used_outside", d["nonces_used_outside"]),
    ]
    queues = d["queues"].items() if isinstance(d["queues"], dict) else d["queues"]
    console.print(Columns([small("mode", mode), small("queues", queues), small("attention", flow)]))
    hour = d["intents_last_hour"] if isinstance(d["intents_last_hour"], dict) else {}
    every = d["intents_by_state"] if isinstance(d["intents_by_state"], dict) else {}
    states = sorted(set(hour) | set(every))
    rows = [(k, hour.get(k, 0), every.get(k, 0)) for k in states]
    table("intents by state", ["state", "last hour", "all"], rows)
    sig = d["signers"]
    if isinstance(sig, dict):
        console.print(f"signers: {sig['total']} total, {sig['in_step']} in step with the chain")
        for line in sig["outside"]:
            console.print(f"[red]nonce used outside[/] {line}")
        for line in sig["unsent"]:
            console.print(f"[yellow]unsent[/] {line}")
    else:
        console.print(f"signers: {sig}")
    low = d["low_balance_signers"]
    for line in low if isinstance(low, list) else [low]:
        console.print(f"[yellow]low balance[/] {line}")
    notes = d["notifications"]
    if isinstance(notes, dict):
        if notes["pending"] or notes["failed"]:
            console.print(
                f"notifications: {notes['pending']} pending, {notes['failed']} refused for good"
            )
        for line in notes["failures"]:
            console.print(f"[red]notification refused[/] {line}")
    else:
        console.print(f"notifications: {notes}")
    acc = d["accounts"]
    if isinstance(acc, dict):
        console.print(
            f"accounts: {acc['accounts']} ({acc['several_leaders']} copying several leaders, "
            f"{acc['with_limits']} with limits), {acc['followings']} followings"
            + (
                f"; circuit breaker on: followers {acc['breakers_on']}"
                if acc["breakers_on"]
                else ""
            )
        )
    else:
        console.print(f"accounts: {acc}")
    subs = d["subaccounts_low"]
    for line in subs if isinstance(subs, list) else [subs]:
        console.print(f"[yellow]subaccount[/] {line}")
    heads = d["queue_heads"]
    for h in heads if isinstance(heads, list) else [heads]:
        if isinstance(h, dict):
            console.print(
                f"[yellow]waiting[/] signal {h['signal_id']} of leader {h['leader']} for "
                f"{h['waiting_s']:.0f} s, behind {h['behind']}"
            )
        else:
            console.print(f"queue heads: {h}")
    for key in ("chain_alarm", "leader_reorg_alarm", "nonce_alarm"):
        if d[key]:
            console.print(f"[red]{key}[/] {d[key]}")


def register(app: typer.Typer) -> None:
    @app.command("heartbeat")
    def heartbeat(
        period: Annotated[float | None, typer.Option(help="Seconds; default the setting.")] = None,
    ) -> None:
        """Run the heartbeat (its own process; LIVE needs it). Stops on SIGTERM/SIGINT."""
        s = _svc()
        setup_logging(s.settings.log_level, s.settings.log_format)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        p = period or s.settings.health_period_s
        console.print(f"heartbeat every {p}s to {s.settings.mode_redis_url.split('@')[-1]}")
        if s.settings.heartbeat_metrics_port:
            # start-up cost: prometheus_client (~30 ms), only with a metrics port
            from core.services.health_metrics import serve

            serve(s, s.settings.heartbeat_metrics_port)
            console.print(f"state metrics on :{s.settings.heartbeat_metrics_port}/metrics")
        run_heartbeat(s.heartbeat_store, p, stop)

    @app.command("demo")
    def demo(
        followers: Annotated[int, typer.Option(min=1, max=500)] = 20,
        signals: Annotated[int, typer.Option(min=1, max=50)] = 3,
        keep: Annotated[bool, typer.Option(help="Keep the data directory.")] = False,
        venue: Annotated[
            str,
            typer.Option(help="gmx (the local GMX-compatible venue, two-phase) or simple."),
        ] = "gmx",
        json_: Json = False,
    ) -> None:
        """Run the whole job on an embedded stack (no servers), then stop everything."""
        if venue not in ("gmx", "simple"):
            raise typer.BadParameter(f"--venue {venue!r}: gmx or simple")
        # start-up cost: the demo loads config.settings (pydantic_settings, ~35 ms)
        from core.demo.run import run

        raise typer.Exit(run(followers, signals, keep, json_, venue))

    @app.command("status")
    def status(json_: Json = False) -> None:
        """One screen: mode and why, heartbeat, stop, queues, intents by state (last hour
        and all), stuck / held, signers' nonces against the chain, low balances, alarms."""
        data = status_data()
        if json_:
            emit_json(data)
            return
        _show_status(data)

    @app.command("verify", help=VERIFY_HELP)
    def verify_cmd(json_: Json = False) -> None:
        """Check nonces, orders on chain and signals against the data (VERIFY_HELP)."""
        s = _svc()
        report = verify(s.audit_queries, s.chain, s.venue, s.settings.max_signal_age_s)
        if json_:
            emit_json(report.as_dict())
        else:
            table("verify", ["figure", "value"], sorted(report.figures.items()))
            for b in report.breaches:
                console.print(f"[red]BREACH[/] {b}")
            console.print("[green]OK[/]" if report.ok else f"{len(report.breaches)} breach(es)")
        if not report.ok:
            raise typer.Exit(1)

    @app.command("stop")
    def stop(reason: NeedReason) -> None:
        """Emergency stop: the flag is set at once (no new broadcast window opens), then it
        returns once the windows already open have closed; none starts after."""
        said: set[int] = set()

        def waiting(windows: list[OpenWindow]) -> None:
            if {w.pid for w in windows} <= said:
                return
            said.update(w.pid for w in windows)
            console.print(
                f"stop flag set; waiting for {len(windows)} open broadcast window(s): "
                + "; ".join(str(w) for w in windows)
            )

        _svc().mode.stop(_actor(), reason, on_wait=waiting)
        console.print("STOPPED: no broadcast will start until `copytrade resume`")

    @app.command("resume")
    def resume(reason: NeedReason, json_: Json = False) -> None:
        """Lift the emergency stop and re-enqueue the signals it held; then say what is
        queued and where: intents still to send (of how many signals), in flight, and the
        broker's queue depths (or that the broker is unreachable: the stop is lifted
        anyway, the reconciler re-enqueues what the broker refused)."""
        s = _svc()
        report = resume_service(s.mode, s.signals, s.intake.dispatcher, s.backlog, _actor(), reason)
        if json_:
            emit_json(report.as_dict())
        else:
            console.print(report.line(), soft_wrap=True)
