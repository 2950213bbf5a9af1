"""Output helpers shared by the CLI modules."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from core.domain.sizing import plain

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
