"""Operations verbs: heartbeat, status, stop, resume."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated, Any

import typer

from core.cli.common import console, emit_json, table

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
NeedReason = Annotated[str, typer.Option("--reason", help="Why (required; audit-logged).")]


def _svc() -> Any:
    from core.bootstrap import services

    return services()


def _actor() -> str:
    from config.settings import get_settings

    return get_settings().operator or "cli"


def status_data() -> dict[str, Any]:
    from core.adapters.postgres.audit_queries import AuditQueries
    from core.adapters.postgres.queries import Queries
    from core.bootstrap import CHAIN_ALARM
    from core.services.leader_watch import LEADER_REORG_ALARM

    s = _svc()
    v = s.mode.verdict()
    q = Queries(s.db)
    return {
        "requested_mode": s.mode.requested().value,
        "effective_mode": v.mode.value,
        "why_not_live": v.reason,
        "redis_streak": v.streak,
        "heartbeat_age_s": None if v.heartbeat_age_s is None else round(v.heartbeat_age_s, 3),
        "emergency_stop": s.mode.stopped(),
        "profile": s.settings.profile,
        "intents_by_state": q.intents_by_state(),
        "signed_past_max_age": q.signed_past_age(s.settings.max_signal_age_s),
        "nonces_used_outside": len(AuditQueries(s.db).used_outside()),
        "chain_alarm": _recent_note(s, CHAIN_ALARM, 120),
        "leader_reorg_alarm": _recent_note(s, LEADER_REORG_ALARM, 86400),
        "low_balance_signers": _low_balances(s),
    }


def _low_balances(s: Any) -> list[str] | str:
    """Followers' signers under COPYTRADE_LOW_BALANCE_WEI (the first 20), or why unknown."""
    from core.domain.errors import TransientError

    try:
        wei = s.chain.balances(sorted({f.address for f in s.registry.list_followers()}))
    except TransientError as exc:
        return f"unknown: {exc}"
    low = sorted(a for a, w in wei.items() if w < s.settings.low_balance_wei)
    return [f"{a}: {wei[a]} wei" for a in low[:20]]


def _recent_note(s: Any, key: str, within_s: float) -> str | None:
    """A system note (an alarm) while it is recent: the wrong-chain refusal repeats every
    retry (2 minutes); a leader trade reorged out after followers traded stays a day."""
    noted = s.controls.noted(key)
    if noted is None or noted[1] > within_s:
        return None
    return f"{noted[0]} ({noted[1]:.0f}s ago)"


def register(app: typer.Typer) -> None:
    @app.command("heartbeat")
    def heartbeat(
        period: Annotated[float | None, typer.Option(help="Seconds; default the setting.")] = None,
    ) -> None:
        """Run the heartbeat (its own process; LIVE needs it). Stops on SIGTERM/SIGINT."""
        from core.services.heartbeat import run

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        s = _svc()
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        p = period or s.settings.health_period_s
        console.print(f"heartbeat every {p}s to {s.settings.mode_redis_url.split('@')[-1]}")
        if s.settings.heartbeat_metrics_port:
            from core.services.health_metrics import serve

            serve(s, s.settings.heartbeat_metrics_port)
            console.print(f"state metrics on :{s.settings.heartbeat_metrics_port}/metrics")
        run(s.heartbeat_store, p, stop)

    @app.command("demo")
    def demo(
        followers: Annotated[int, typer.Option(min=1, max=500)] = 20,
        signals: Annotated[int, typer.Option(min=1, max=50)] = 3,
        keep: Annotated[bool, typer.Option(help="Keep the data directory.")] = False,
        json_: Json = False,
    ) -> None:
        """Run the whole job on an embedded stack (no servers), then stop everything."""
        from core.demo.run import run

        raise typer.Exit(run(followers, signals, keep, json_))

    @app.command("status")
    def status(json_: Json = False) -> None:
        """Mode (and why not LIVE), heartbeat, stop flag, intents by state."""
        data = status_data()
        if json_:
            emit_json(data)
            return
        rows = [(k, v) for k, v in data.items() if k != "intents_by_state"]
        rows += [(f"intents {k}", n) for k, n in sorted(data["intents_by_state"].items())]
        table("copytrade status", ["", "value"], rows)

    @app.command("verify")
    def verify_cmd(json_: Json = False) -> None:
        """Check nonces, orders on chain and signals against the data; exit 1 on a breach."""
        from core.adapters.postgres.audit_queries import AuditQueries
        from core.services.verify import verify

        s = _svc()
        report = verify(
            AuditQueries(s.db), s.chain, s.settings.venue_address, s.settings.max_signal_age_s
        )
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
        """Emergency stop: returns once no broadcast is in flight; none starts after."""
        _svc().mode.stop(_actor(), reason)
        console.print("STOPPED: no broadcast will start until `copytrade resume`")

    @app.command("resume")
    def resume(reason: NeedReason) -> None:
        """Lift the emergency stop and re-enqueue the intents it held."""
        s = _svc()
        s.mode.resume(_actor(), reason)
        waiting = s.store.waiting_signals()
        sent = sum(s.intake.dispatcher.dispatch(pk, start=step) for pk, step in waiting)
        console.print(f"resumed; {sent} of {len(waiting)} waiting signal(s) re-enqueued")
