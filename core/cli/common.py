"""Helpers shared by the CLI modules: output, the common options, parsing, the services."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from core.domain.errors import RejectedSignal
from core.domain.sizing import plain, usd_to_e6

if TYPE_CHECKING:
    from core.bootstrap import Services

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Reason = Annotated[Optional[str], typer.Option("--reason", help="Why (goes to the audit log).")]

console = Console()
console_err = Console(stderr=True, soft_wrap=True)


def _text(value: object) -> str:
    # A Decimal as plain digits: str() gives 1E+6 for a million.
    return plain(value) if isinstance(value, Decimal) else str(value)


def emit_json(data: Any) -> None:
    print(json.dumps(data, default=_text, indent=2))


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if v is None else _text(v) for v in r])
    console.print(t)


def services() -> Services:
    """The composition root, built on first use."""
    from core.bootstrap import services as built  # start-up cost: web3, sqlalchemy, adapters

    return built()


def parse_assets(text: str) -> frozenset[str]:
    """`BTC,eth` -> {BTC, ETH}; at least one."""
    items = frozenset(a.strip().upper() for a in text.split(",") if a.strip())
    if not items:
        raise RejectedSignal("bad_assets", "give at least one asset, e.g. BTC,ETH")
    return items


def usd_limit(text: str | None) -> int | None:
    """A limit in USD as micro-USD; 0 (or none given): no limit."""
    return (usd_to_e6(text) or None) if text is not None else None
