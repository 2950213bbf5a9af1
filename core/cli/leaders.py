"""`leader txs`: what the leader watcher saw and what each transaction became."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from core.cli.common import emit_json, table
from core.domain.errors import RejectedSignal
from core.domain.signals import parse_address

if TYPE_CHECKING:
    from core.bootstrap import Services

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _svc() -> Services:
    # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)
    from core.bootstrap import services

    return services()


def became(action: dict[str, Any]) -> str:
    """One action in words: its signal id, or ignored / revoked with the reason."""
    if action["status"] == "signal":
        text = action["signal_id"] or "signal"
        if not action["submitted"]:
            text += " (not yet submitted)"
    else:
        text = f"{action['status']}: {action['reason'] or 'no reason recorded'}"
        if action["status"] == "revoked" and action["signal_id"]:
            text += f" (signal {action['signal_id']})"
    if action["orphaned"]:
        text += " (orphaned: its block left the chain, re-checked)"
    return text


def _seconds(iso: str | None) -> str | None:
    """An ISO time to the second, its offset kept (the table's column; JSON keeps it all)."""
    if iso is None:
        return None
    return datetime.fromisoformat(iso).replace(microsecond=0).isoformat(sep=" ")


def register(leader: typer.Typer) -> None:
    @leader.command("txs")
    def leader_txs(
        address: Annotated[
            Optional[str], typer.Option("--leader", help="Only this leader's transactions.")
        ] = None,
        ignored: Annotated[
            bool, typer.Option("--ignored", help="Only the ignored ones, with the reason.")
        ] = False,
        limit: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
        json_: Json = False,
    ) -> None:
        """The leader transactions the watcher saw, newest first, and what each became: its
        signal id(s), or ignored with the reason (not the venue, unknown selector, reverted,
        refused by intake), or revoked after a reorg."""
        checked = parse_address(address) if address is not None else None
        s = _svc()
        leader_id = None
        if checked is not None:
            leader_id = s.registry.leader_id(checked)
            if leader_id is None:
                raise RejectedSignal("unknown_leader", f"{address}: add it with `leader add`")
        rows = s.leader_txs.leader_txs(leader_id, ignored, limit)
        if json_:
            emit_json(rows)
            return
        table(
            "leader transactions" + (" (ignored)" if ignored else ""),
            ["block", "tx hash", "leader", "became", "seen at"],
            [
                (
                    r["block"],
                    r["tx_hash"],
                    r["leader"],
                    "; ".join(
                        (f"#{a['index']} " if len(r["actions"]) > 1 else "") + became(a)
                        for a in r["actions"]
                    ),
                    _seconds(r["seen_at"]),
                )
                for r in rows
            ],
        )
