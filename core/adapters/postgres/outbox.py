"""Writing the notifications outbox inside the transaction of the change it reports: an
intent's move to a reported state (core/domain/notifications.py INTENT_EVENTS) adds a row
for its follower, when the follower has a destination, in the same statement batch as the
compare-and-set. Rolled back with it; one row per (intent, event) whoever writes it (the
`dedupe` key: a second writer of the same change finds the row there)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, String, and_, bindparam, cast, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.adapters.postgres.tables import followers, intents, leaders, notifications, signals
from core.domain.notifications import INTENT_EVENTS
from core.domain.states import IntentState
from core.domain.types import CANCEL_ACTION

COLUMNS = ("destination", "follower_id", "event", "signal_pk", "intent_id", "dedupe", "facts")


def intents_moved(conn: Connection, ids: Sequence[int], new: IntentState) -> int:
    """Outbox rows for the intents among `ids` now in `new` (those this transaction moved,
    or another one did: the dedupe key keeps it one row), for followers with a destination;
    copytrade's own cancel legs are no copy and are not reported. Returns rows added."""
    event = INTENT_EVENTS.get(new)
    if event is None or not ids:
        return 0
    i, f = intents.c, followers.c
    facts = func.jsonb_build_object(
        *_pairs(
            signal_id=signals.c.signal_id,
            action=i.action,
            asset=i.asset,
            side=i.side,
            notional_usd_1e6=i.notional_usd_1e6,
            fill_price_usd_1e6=i.fill_price_usd_1e6,
            fill_size_usd_1e6=i.fill_size_usd_1e6,
            tx_hash=i.tx_hash,
            reason=i.reason,
            # which of the account's followings (one per leader) it was
            leader=select(leaders.c.address)
            .where(leaders.c.id == signals.c.leader_id)
            .scalar_subquery(),
            account_id=f.account_id,
        )
    )
    rows = (
        select(
            literal("follower:").op("||")(cast(f.id, String)),
            f.id,
            literal(event),
            i.signal_pk,
            i.id,
            literal(f"{event}:intent:").op("||")(cast(i.id, String)),
            facts,
        )
        .select_from(
            intents.join(followers, f.id == i.follower_id).join(
                signals, signals.c.id == i.signal_pk
            )
        )
        .where(
            i.id == func.any(bindparam("ids", list(ids), type_=ARRAY(BIGINT))),
            and_(i.state == new.value, f.notify_url.is_not(None), i.action != CANCEL_ACTION),
        )
        # a follower's reports in the leader's order (two signals expanded at once can
        # give the later one's intent the lower id)
        .order_by(i.seq, i.id)
    )
    stmt = (
        pg_insert(notifications)
        .from_select(list(COLUMNS), rows)
        .on_conflict_do_nothing(index_elements=["dedupe"])
    )
    return int(conn.execute(stmt).rowcount)


def _pairs(**cols: Any) -> list[Any]:
    out: list[Any] = []
    for k, v in cols.items():
        out += [literal(k), v]
    return out


def add(
    conn: Connection,
    destination: str,
    event: str,
    dedupe: str,
    facts: dict[str, Any],
    follower_id: int | None = None,
) -> bool:
    """One outbox row (an operator alert, a follower told of the stop); False: this change
    was reported already (its dedupe key is there)."""
    stmt = (
        pg_insert(notifications)
        .values(
            destination=destination,
            follower_id=follower_id,
            event=event,
            dedupe=dedupe,
            facts=facts,
        )
        .on_conflict_do_nothing(index_elements=["dedupe"])
    )
    return bool(conn.execute(stmt).rowcount)
