"""Operator controls in PostgreSQL: requested mode and the emergency stop.

Every broadcast window holds a transaction-level *shared advisory lock* and reads the stop
flag after taking it; `stop` first commits the flag (new windows see it at once), then takes
the same advisory lock exclusively and returns when it has it, so once `stop` has returned
every window that could have read the flag as off has closed, and none opens that does not
see it. Heavyweight locks queue fairly: a shared request that conflicts with a waiting
exclusive one waits behind it. Row locks do not (a new `FOR SHARE` joins the current share
holders and passes a waiting `FOR UPDATE`), which let overlapping windows starve the stop.

A window is bounded: PostgreSQL ends a window's session that stays idle in its transaction
longer than the bound (a hung or frozen worker cannot hold the stop off for ever). A flag
that cannot be read (PostgreSQL down) surfaces as TransientError: nothing is sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.adapters.postgres.audit_log import write_audit
from core.adapters.postgres.db import Database
from core.adapters.postgres.tables import controls
from core.domain.mode import EMERGENCY_STOP, REQUESTED_MODE
from core.domain.rows import OpenWindow

# The advisory lock every broadcast window holds shared (per database; < 2**32, so it shows
# in pg_locks as classid 0, objid WINDOW_LOCK).
WINDOW_LOCK = 0x63747277


def _stopped(value: str | None) -> bool:
    return value != "off"  # a missing or unknown value means stopped


class ControlStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str) -> str | None:
        with self.db.tx() as conn:
            return conn.execute(
                select(controls.c.value).where(controls.c.key == key)
            ).scalar_one_or_none()

    def snapshot(self) -> tuple[str | None, bool]:
        """(requested mode value, stopped) in one read."""
        requested, stopped, _ = self.snapshot_at()
        return requested, stopped

    def snapshot_at(self) -> tuple[str | None, bool, datetime]:
        """(requested mode value, stopped, the database's clock) in one read."""
        with self.db.tx() as conn:
            at, values = conn.execute(
                select(
                    func.clock_timestamp(), func.json_object_agg(controls.c.key, controls.c.value)
                ).select_from(controls)
            ).one()
        values = values or {}
        return values.get(REQUESTED_MODE), _stopped(values.get(EMERGENCY_STOP)), at

    def set(self, key: str, value: str, actor: str, reason: str | None) -> None:
        """Write a control and its audit row, committed at once (a stop flag takes effect
        for new windows from here; `wait_for_windows` then waits for the open ones)."""
        with self.db.tx() as conn:
            conn.execute(pg_insert(controls).values(key=key, value=value).on_conflict_do_nothing())
            self._lock(conn, key)  # one writer of a key at a time
            conn.execute(
                update(controls)
                .where(controls.c.key == key)
                .values(value=value, updated_at=func.now())
            )
            write_audit(conn, actor, f"control.{key}", reason, value=value)

    def get_or_record(self, key: str, value: str) -> str:
        """The stored value; `value` is stored first when there is none (first start)."""
        with self.db.tx() as conn:
            conn.execute(pg_insert(controls).values(key=key, value=value).on_conflict_do_nothing())
            stored: str = conn.execute(
                select(controls.c.value).where(controls.c.key == key)
            ).scalar_one()
            return stored

    def note(self, key: str, value: str) -> None:
        """Upsert a system note (an alarm, say): no lock, no audit row."""
        with self.db.tx() as conn:
            conn.execute(
                pg_insert(controls)
                .values(key=key, value=value)
                .on_conflict_do_update(
                    index_elements=[controls.c.key], set_={"value": value, "updated_at": func.now()}
                )
            )

    def noted(self, key: str) -> tuple[str, float] | None:
        """(value, seconds since it was written) of a note, or None."""
        with self.db.tx() as conn:
            row = conn.execute(
                select(
                    controls.c.value,
                    func.extract("epoch", func.now() - controls.c.updated_at),
                ).where(controls.c.key == key)
            ).first()
        return None if row is None else (str(row[0]), float(row[1]))

    @contextmanager
    def broadcast_window(self, bound_s: float) -> Iterator[tuple[bool, datetime]]:
        """Hold the window lock (shared) and read the stop flag under it; yields whether
        sending is stopped and the database time the window opened. The session is ended
        by PostgreSQL if it stays in the window longer than `bound_s`."""
        with self.db.tx() as conn:
            conn.execute(
                text("SELECT set_config('idle_in_transaction_session_timeout', :ms, true)"),
                {"ms": str(max(1, int(bound_s * 1000)))},
            )
            conn.execute(select(func.pg_advisory_xact_lock_shared(WINDOW_LOCK)))
            value, opened = conn.execute(
                select(
                    select(controls.c.value)
                    .where(controls.c.key == EMERGENCY_STOP)
                    .scalar_subquery(),
                    func.clock_timestamp(),
                )
            ).one()
            yield _stopped(value), opened

    def wait_for_windows(
        self, on_wait: Callable[[list[OpenWindow]], None] | None = None, every_s: float = 1.0
    ) -> None:
        """Return once every broadcast window open now has closed. Windows opening meanwhile
        queue behind this wait (and then read the flag). `on_wait` hears the open windows at
        once and every `every_s` while it waits."""
        done = threading.Event()

        def report() -> None:
            while not done.is_set():
                try:
                    held = self.open_windows()
                except Exception:  # noqa: BLE001 - a report is best effort; the wait is not
                    held = []
                if held and not done.is_set() and on_wait is not None:
                    on_wait(held)
                done.wait(every_s)

        reporter = threading.Thread(target=report, daemon=True, name="stop-report")
        if on_wait is not None:
            reporter.start()
        try:
            with self.db.tx() as conn:
                conn.execute(select(func.pg_advisory_xact_lock(WINDOW_LOCK)))
        finally:
            done.set()
            if reporter.is_alive():
                reporter.join(every_s + 5)

    def open_windows(self) -> list[OpenWindow]:
        """The broadcast windows open now in this database (holders of the window lock)."""
        sql = text(
            "SELECT a.pid, coalesce(a.application_name, '') || '@' || "
            "coalesce(host(a.client_addr), 'local'), "
            "extract(epoch FROM clock_timestamp() - a.xact_start) "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ShareLock' "
            "AND l.classid = 0 AND l.objid = :key AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "ORDER BY a.xact_start"
        )
        with self.db.tx() as conn:
            rows = conn.execute(sql, {"key": WINDOW_LOCK}).all()
        return [OpenWindow(int(p), str(c), float(s or 0)) for p, c, s in rows]

    @staticmethod
    def _lock(conn: Connection, key: str) -> str | None:
        q = select(controls.c.value).where(controls.c.key == key).with_for_update()
        return conn.execute(q).scalar_one_or_none()
