"""The notifications outbox, read and recorded by the drain (the `NotificationStore` port).
One drain at a time (a session advisory lock on its own connection, released if the
process dies); a message is sent inside the transaction that holds its row and records the
result, so a crash before the send leaves it pending (sent once, later) and a crash after
the send and before the commit sends it again (the one window for a duplicate: no
destination takes an idempotency key)."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.adapters.postgres import outbox
from core.adapters.postgres.db import Database, session_lock
from core.adapters.postgres.tables import controls, followers, notifications
from core.domain.notifications import Head, Pending, SendResult, Target, backoff_s

DRAIN_LOCK = 0x6E6F74696679  # "notify": the drain's session advisory lock
ALERTS_LOCK = 0x616C65727473  # "alerts": one alerts round at a time
n = notifications.c


class NotificationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def drain_lock(self) -> AbstractContextManager[bool]:
        return session_lock(self.db, DRAIN_LOCK)

    def alerts_lock(self) -> AbstractContextManager[bool]:
        """One alerts round at a time: a round reads its conditions before it writes their
        episodes, and an overlapping round with older readings must not write after it."""
        return session_lock(self.db, ALERTS_LOCK)

    def bot_sent_ages(self, window_s: float) -> list[float]:
        """How long ago (s) each message went through the Telegram bot within `window_s`:
        the bot's rate is shared by every process that drains in turn."""
        f = followers.c
        bot = or_(f.notify_url == "telegram", f.notify_url.like("tgram://%"))
        q = (
            select(func.extract("epoch", func.now() - n.sent_at))
            .select_from(notifications.join(followers, f.id == n.follower_id))
            .where(n.sent_at > func.now() - timedelta(seconds=window_s), bot)
        )
        with self.db.tx() as conn:
            return [float(a) for (a,) in conn.execute(q)]

    def heads(self) -> list[Head]:
        heads = (
            select(n.destination, n.id, n.signal_pk, n.next_at)
            .where(n.state == "pending")
            .order_by(n.destination, n.id)
            .distinct(n.destination)
            .subquery()
        )
        m = notifications.alias("m")
        since = (  # the destination's last send, read once per destination
            select(func.extract("epoch", func.now() - func.max(m.c.sent_at)))
            .where(m.c.destination == heads.c.destination, m.c.state == "sent")
            .scalar_subquery()
        )
        q = select(
            heads.c.destination,
            heads.c.id,
            heads.c.signal_pk,
            heads.c.next_at <= func.now(),
            since,
        )
        with self.db.tx() as conn:
            rows = conn.execute(q).all()
        return [
            Head(r[0], r[1], r[2], bool(r[3]), None if r[4] is None else float(r[4])) for r in rows
        ]

    def deliver(
        self,
        head: Head,
        send: Callable[[Target, list[Pending]], tuple[list[Pending], SendResult]],
        max_tries: int,
        backoff_max_s: float,
    ) -> tuple[int, SendResult] | None:
        with self.db.tx() as conn:
            rows = conn.execute(
                select(n.id, n.event, n.signal_pk, n.facts, n.tries, n.next_at <= func.now())
                .where(n.destination == head.destination, n.state == "pending")
                .order_by(n.id)
                .limit(50)
                .with_for_update()
            ).all()
            if not rows or rows[0].id != head.id or not rows[0][5]:
                return None  # sent meanwhile, or backing off again
            pending = [Pending(r.id, r.event, r.signal_pk, r.facts, r.tries) for r in rows]
            target = self._target(conn, head.destination)
            went, result = send(target, pending)
            ids = [p.id for p in went]
            if result.ok:
                values: dict[str, Any] = {
                    "state": "sent",
                    "sent_at": func.now(),
                    "last_error": None,
                }
            elif result.waiting:  # our own setting is missing: no try counted
                wait = timedelta(seconds=backoff_max_s)
                values = {"next_at": func.now() + wait, "last_error": result.detail[:300]}
            elif result.permanent or went[0].tries + 1 >= max_tries:
                why = (
                    result.detail
                    if result.permanent
                    else f"gave up after {max_tries} tries: {result.detail}"
                )
                values = {"state": "failed", "last_error": why[:300], "tries": n.tries + 1}
            else:
                wait = timedelta(seconds=backoff_s(went[0].tries, backoff_max_s))
                values = {
                    "tries": n.tries + 1,
                    "next_at": func.now() + wait,
                    "last_error": result.detail[:300],
                }
            conn.execute(update(notifications).where(n.id.in_(ids)).values(**values))
            return len(ids), result

    @staticmethod
    def _target(conn: Any, destination: str) -> Target:
        kind, _, rest = destination.partition(":")
        if kind != "follower":
            return Target(destination, None)
        row = conn.execute(
            select(followers.c.notify_url, followers.c.tg_user_id).where(
                followers.c.id == int(rest)
            )
        ).first()
        return Target(destination, None if row is None else row[0], None if row is None else row[1])

    def counts(self) -> dict[str, int]:
        with self.db.tx() as conn:
            rows = conn.execute(select(n.state, func.count()).group_by(n.state)).all()
        return {str(s): int(c) for s, c in rows}

    def failures(self, limit: int) -> list[str]:
        """The newest messages refused for good, one line each (status)."""
        with self.db.tx() as conn:
            rows = conn.execute(
                select(n.id, n.destination, n.event, n.last_error)
                .where(and_(n.state == "failed"))
                .order_by(n.id.desc())
                .limit(limit)
            ).all()
        return [f"#{r[0]} {r[1]} {r[2]}: {r[3]}" for r in rows]

    def listing(
        self, state: str | None, follower_id: int | None, limit: int
    ) -> list[dict[str, Any]]:
        q = select(
            n.id, n.destination, n.event, n.signal_pk, n.intent_id, n.state, n.tries,
            n.created_at, n.sent_at, n.last_error,
        ).order_by(n.id.desc()).limit(limit)  # fmt: skip
        if state is not None:
            q = q.where(n.state == state)
        if follower_id is not None:
            q = q.where(n.follower_id == follower_id)
        with self.db.tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in rows
        ]

    # -- alert episodes (core/services/alerting.py) -----------------------------------
    def episode(
        self,
        name: str,
        active: bool,
        facts: dict[str, Any],
        delay_s: float,
        operator: bool,
        followers_event: str | None = None,
        follower_id: int | None = None,
    ) -> str | None:
        """One condition's episode, in one transaction with its reports: it opens when
        first seen active (controls key `alert:<name>`), is reported once it has lasted
        `delay_s` (to the operator when `operator`, and as `followers_event` to every
        follower with a destination, or only to `follower_id`), and is closed — reported
        `resolved` if it was reported — when seen inactive. Returns what was reported now
        (opened | resolved)."""
        key = f"alert:{name}"
        with self.db.tx() as conn:
            now = float(conn.execute(select(func.extract("epoch", func.now()))).scalar_one())
            if active:  # two rounds at once: one inserts, both then lock the same row
                fresh = json.dumps({"start": int(now), "reported": False})
                conn.execute(
                    pg_insert(controls).values(key=key, value=fresh).on_conflict_do_nothing()
                )
            row = conn.execute(
                select(controls.c.value).where(controls.c.key == key).with_for_update()
            ).first()
            if row is None:
                return None
            state = json.loads(row[0])
            if not active:
                conn.execute(delete(controls).where(controls.c.key == key))
                if not state.get("reported"):
                    return None
                again = "resumed" if followers_event == "paused" else None
                self._report(conn, name, "resolved", f"{state['start']}:resolved", facts,
                             operator, again, follower_id)  # fmt: skip
                return "resolved"
            if state["reported"] or now - state["start"] < delay_s:
                return None
            self._report(conn, name, "opened", str(state["start"]), facts, operator,
                         followers_event, follower_id)  # fmt: skip
            state["reported"] = True
            conn.execute(
                update(controls).where(controls.c.key == key).values(value=json.dumps(state))
            )
            return "opened"

    @staticmethod
    def _report(
        conn: Any,
        name: str,
        how: str,
        episode: str,
        facts: dict[str, Any],
        operator: bool,
        followers_event: str | None,
        follower_id: int | None = None,
    ) -> None:
        text = facts.get("text", name)
        if operator:
            outbox.add(conn, "operator", f"alert_{how}", f"alert:{name}:{episode}",
                       {"alert": name, "text": text})  # fmt: skip
        if followers_event is None:
            return
        q = select(followers.c.id).where(followers.c.notify_url.is_not(None))
        if follower_id is not None:
            q = q.where(followers.c.id == follower_id)
        for fid in conn.execute(q).scalars():
            dedupe = f"alert:{name}:{episode}:{fid}"
            outbox.add(conn, f"follower:{fid}", followers_event, dedupe, {"text": text},
                       follower_id=fid)  # fmt: skip
