"""Compare-and-set of intent states, the one mechanism every store uses to move an intent:
`UPDATE … WHERE id = … AND state = :current`, checked against the state table first, and
counted in the metrics once the transaction commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, Column, Connection, Table, Update, bindparam, cast, func, update
from sqlalchemy.sql.elements import BindParameter

from core import metrics
from core.adapters.postgres import outbox
from core.adapters.postgres.db import after_commit
from core.adapters.postgres.tables import intents
from core.domain.notifications import INTENT_EVENTS
from core.domain.states import INTENT_TERMINAL, IntentState, check_intent, reason_code

FEW = 4  # rows up to which an executemany is cheaper than one unnest statement


def bulk_update(
    table: Table,
    key: Column[Any],
    key_param: str,
    rows: Sequence[dict[str, Any]],
    *where: Any,
    **values: Any,
) -> Update:
    """One `UPDATE table SET … FROM unnest(<arrays>) AS v(…) WHERE key = v.<key_param> …`
    for all `rows` (an executemany is a round trip per row). A value given as
    `bindparam("b_x")` reads each row's `b_x`; typed from the column it sets."""
    params = {k: v.key for k, v in values.items() if isinstance(v, BindParameter)}
    names = [key_param, *params.values()]
    types = [key.type, *(table.c[k].type for k in params)]
    arrays = [
        cast(bindparam(None, [r.get(n) for r in rows], type_=ARRAY(t)), ARRAY(t))
        for n, t in zip(names, types, strict=True)
    ]
    v = func.unnest(*arrays).table_valued(*names).render_derived()
    sets = {k: (v.c[params[k]] if k in params else val) for k, val in values.items()}
    return update(table).where(key == v.c[key_param], *where).values(**sets)


def cas_many(
    conn: Connection,
    current: IntentState,
    new: IntentState,
    rows: list[dict[str, Any]],
    *where: Any,
    **values: Any,
) -> int:
    """Compare-and-set many intents: `UPDATE … WHERE id = v.b_id AND state = :current` in
    one statement (`bulk_update`). Each row carries `b_id` and the bind parameters `values`
    name. Rows carrying a `b_reason` go in one statement per reason code, so that what is
    counted (`count_moved`) is exact."""
    check_intent(current, new)
    if not rows:
        return 0
    fixed = values.get("reason")
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        why = r["b_reason"] if "b_reason" in r else fixed if isinstance(fixed, str) else None
        groups.setdefault(reason_code(why), []).append(r)
    total = 0
    for code, group in groups.items():
        sets = {"state": new.value, "updated_at": func.clock_timestamp(), **values}
        if len(group) <= FEW:  # building the unnest costs more than a round trip or two
            stmt: Update = (
                update(intents)
                .where(intents.c.id == bindparam("b_id"), intents.c.state == current.value)
                .where(*where)
                .values(**sets)
            )
            n = int(conn.execute(stmt, group).rowcount)
        else:
            same = intents.c.state == current.value
            stmt = bulk_update(intents, intents.c.id, "b_id", group, same, *where, **sets)
            n = int(conn.execute(stmt).rowcount)
        count_moved(conn, current, new, n, code)
        total += n
    if total and new in INTENT_EVENTS:  # reported in the same transaction as the move
        outbox.intents_moved(conn, [r["b_id"] for r in rows], new)
    return total


def count_moved(
    conn: Connection, current: IntentState, new: IntentState, n: int, code: str = ""
) -> None:
    """Count `n` intents current -> new in the metrics once this transaction commits."""
    if n > 0:
        after_commit(
            conn,
            lambda: metrics.intents_moved(
                current.value, new.value, n, new in INTENT_TERMINAL, code
            ),
        )


def cas_one(
    conn: Connection,
    intent_id: int,
    current: IntentState,
    new: IntentState,
    *where: Any,
    **values: Any,
) -> bool:
    """Compare-and-set one intent; True when this caller won."""
    return cas_many(conn, current, new, [{"b_id": intent_id}], *where, **values) == 1
