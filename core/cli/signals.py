"""Flow verbs: signal submit / submit-json / show / schema, intents list, intent show /
cancel."""

from __future__ import annotations

import json
import sys
import uuid
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from core.cli.common import console, console_err, emit_json, table
from core.domain.errors import RejectedSignal
from core.domain.signals import json_schema
from core.domain.sizing import usd_text, usd_to_e6
from core.domain.states import IntentState

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
INTENT_COLUMNS = (
    "id",
    "signal_id",
    "follower_id",
    "state",
    "notional_usd",
    "nonce",
    "tx_hash",
    "reason",
)

if TYPE_CHECKING:
    from core.adapters.postgres.reads.queries import Queries
    from core.bootstrap import Services


def _svc() -> Services:
    # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)
    from core.bootstrap import services

    return services()


def _queries() -> Queries:
    from core.adapters.postgres.reads.queries import Queries  # start-up cost: sqlalchemy

    return Queries(_svc().db)


MAX_JSON = 64 * 1024  # a valid payload is a few hundred bytes


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python's json accepts them


def _answer(answer: dict[str, Any], as_json: bool) -> None:
    """Print intake's answer; exit 2 unless accepted or duplicate."""
    if as_json:
        emit_json(answer)
    else:
        line = " ".join(f"{k}={v}" for k, v in answer.items())
        (console if answer["status"] in ("accepted", "duplicate") else console_err).print(line)
    if answer["status"] not in ("accepted", "duplicate"):
        sys.exit(2)


def _read_payload(source: str) -> Any:
    """The JSON payload in `source` (a file, or - for stdin), at most MAX_JSON bytes."""
    try:
        if source == "-":
            raw = sys.stdin.buffer.read(MAX_JSON + 1)
        else:
            with open(source, "rb") as f:
                raw = f.read(MAX_JSON + 1)
    except OSError as exc:
        raise RejectedSignal("unreadable", f"{source}: {exc.strerror or exc}") from None
    if len(raw) > MAX_JSON:
        raise RejectedSignal("too_large", f"payload over {MAX_JSON} bytes")
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise RejectedSignal("bad_json", str(exc)[:200]) from None


def _with_usd(row: dict[str, Any]) -> dict[str, Any]:
    """`notional_usd` beside `notional_usd_1e6`: the size sizing computed, an accepted
    order's or a rejected one's (what it would have been: by how much it missed a limit);
    empty when it was never sized (paused, stale, ...)."""
    n = row.get("notional_usd_1e6")
    row["notional_usd"] = None if n is None else usd_text(n)
    return row


def register(app: typer.Typer) -> None:
    signal = typer.Typer(help="Leader signals.", no_args_is_help=True)
    intents = typer.Typer(help="Follower intents.", no_args_is_help=True)
    intent = typer.Typer(help="One intent.", no_args_is_help=True)
    app.add_typer(signal, name="signal")
    app.add_typer(intents, name="intents")
    app.add_typer(intent, name="intent")

    @signal.command("submit")
    def signal_submit(
        leader: Annotated[str, typer.Option()],
        action: Annotated[str, typer.Option(help="open|increase|decrease|close")],
        asset: Annotated[str, typer.Option()],
        side: Annotated[str, typer.Option(help="long|short")],
        collateral_usd: Annotated[str, typer.Option("--collateral-usd")] = "0",
        leverage: Annotated[int, typer.Option("--leverage")] = 1,
        price: Annotated[
            Optional[str], typer.Option("--price", help="Leader's price, USD.")
        ] = None,
        signal_id: Annotated[Optional[str], typer.Option("--signal-id")] = None,
        json_: Json = False,
    ) -> None:
        """Submit a leader signal. The row is committed before the answer, so `accepted`
        holds even when the broker is down (dispatch is then deferred)."""
        payload: dict[str, Any] = {
            "schema": 1,
            "signal_id": signal_id or f"cli-{uuid.uuid4().hex}",
            "leader": leader,
            "action": action,
            "asset": asset,
            "side": side,
            "collateral_usd_1e6": usd_to_e6(collateral_usd),
            "leverage_x": leverage,
        }
        if price is not None:
            payload["price_usd_1e6"] = usd_to_e6(price)
        _answer(_svc().intake.submit(payload, source="cli").as_dict(), json_)

    @signal.command("submit-json")
    def signal_submit_json(
        source: Annotated[
            str, typer.Argument(help="A file with one JSON payload, or - for stdin.")
        ],
        json_: Json = False,
    ) -> None:
        """Submit a payload in the producers' JSON schema (`copytrade signal schema`). With
        --json every answer is one JSON object with `status` and, unless accepted, `reason`
        (too_large, bad_json and unreadable included); exit 2 unless accepted or duplicate."""
        try:
            payload = _read_payload(source)
        except RejectedSignal as exc:
            if not json_:
                raise  # one line on stderr (core/cli/__init__.py)
            _answer({"status": "rejected", "reason": exc.reason, "detail": exc.detail}, True)
            return
        _answer(_svc().intake.submit(payload, source="cli").as_dict(), json_)

    @signal.command("schema")
    def signal_schema() -> None:
        """Print the payload's JSON Schema (version 1)."""
        emit_json(json_schema())

    @signal.command("show")
    def signal_show(signal_id: str, json_: Json = False) -> None:
        """Show a signal and its intents by state."""
        data = _queries().signal(signal_id)
        if json_:
            emit_json(data)
        else:
            table(f"signal {signal_id}", ["field", "value"], sorted(data.items()))

    @intents.command("list")
    def intents_list(
        signal: Annotated[Optional[str], typer.Option("--signal", help="A signal_id.")] = None,
        state: Annotated[Optional[str], typer.Option("--state")] = None,
        follower: Annotated[Optional[int], typer.Option("--follower")] = None,
        limit: Annotated[int, typer.Option(min=1)] = 1000,
        json_: Json = False,
    ) -> None:
        """List intents, newest last. `notional_usd` is the size sizing computed; on a
        rejected intent, the order it would have been (never counted as exposure)."""
        if state is not None and state not in {s.value for s in IntentState}:
            raise RejectedSignal(
                "bad_state", f"{state}: one of {', '.join(s.value for s in IntentState)}"
            )
        q = _queries()
        rows = [_with_usd(r) for r in q.intents(signal, state, follower, limit)]
        if any(r["state"] == "pending" for r in rows):  # say what a waiting intent waits for
            heads = {h["signal_id"]: h for h in q.queue_heads()}
            for r in rows:
                h = heads.get(r["signal_id"]) if r["state"] == "pending" else None
                if h is not None:
                    r["waiting"] = f"{h['waiting_s']:.0f} s behind {h['behind']}"
        if json_:
            emit_json(rows)
        else:
            cols = [*INTENT_COLUMNS, *(["waiting"] if any("waiting" in r for r in rows) else [])]
            table("intents", cols, [[r.get(c, "") for c in cols] for r in rows])

    @intent.command("cancel")
    def intent_cancel(
        intent_id: int,
        reason: Annotated[str, typer.Option("--reason", help="Why (audit-logged).")],
    ) -> None:
        """Cancel a signed, sent or held intent: a 0-value self-send at its nonce."""
        from core.adapters.postgres.audit_log import write_audit  # start-up cost: sqlalchemy

        s = _svc()
        claimed = s.maintenance.cancel(intent_id)
        with s.db.tx() as conn:
            write_audit(
                conn,
                s.settings.operator or "cli",
                "intent.cancel",
                reason,
                intent_id=intent_id,
                claimed=claimed,
            )
        console.print(
            f"intent {intent_id}: "
            + (
                "no-op sent; it ends cancelled after confirmations (mined if the order lands first)"
                if claimed
                else "another process is replacing it; try again"
            )
        )

    @intent.command("show")
    def intent_show(intent_id: int, json_: Json = False) -> None:
        """Show one intent with its attempts, each with one outcome: mined, pending (broadcast,
        the newest), replaced (broadcast, superseded), never sent (written ahead, superseded),
        refused: <the node's error>, or waiting to send (written ahead, the newest)."""
        data = _with_usd(_queries().intent(intent_id))
        if json_:
            emit_json(data)
            return
        attempts = data.pop("attempts")
        table(f"intent {intent_id}", ["field", "value"], sorted(data.items()))
        table(
            "attempts",
            ["#", "kind", "nonce", "tx_hash", "max_fee", "tip", "outcome", "error"],
            [
                (
                    a["attempt_no"],
                    a["kind"],
                    a["nonce"],
                    a["tx_hash"],
                    a["max_fee_per_gas"],
                    a["max_priority_fee_per_gas"],
                    a["outcome"],
                    "" if a["outcome"].startswith("refused") else a["error"],  # said once
                )
                for a in attempts
            ],
        )
