"""Operator controls in PostgreSQL: requested mode and the emergency stop.

The stop flag's row is read under a shared lock for the whole broadcast; `stop` takes it
exclusively, so once `stop` has returned no broadcast can start. A flag that cannot be
read (PostgreSQL down) surfaces as TransientError: nothing is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.adapters.postgres.db import Database
from core.adapters.postgres.registry import write_audit
from core.adapters.postgres.tables import controls

REQUESTED_MODE = "requested_mode"
EMERGENCY_STOP = "emergency_stop"


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
        with self.db.tx() as conn:
            values = dict(conn.execute(select(controls.c.key, controls.c.value)).tuples().all())
        return values.get(REQUESTED_MODE), _stopped(values.get(EMERGENCY_STOP))

    def set(self, key: str, value: str, actor: str, reason: str | None) -> None:
        with self.db.tx() as conn:
            conn.execute(pg_insert(controls).values(key=key, value=value).on_conflict_do_nothing())
            self._lock(conn, key, exclusive=True)  # waits for broadcasts in flight
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
    def broadcast_window(self) -> Iterator[tuple[bool, datetime]]:
        """Hold the stop flag's shared lock; yields whether sending is stopped and the
        database time the lock was taken (before any `stop` that waits for this window)."""
        with self.db.tx() as conn:
            stopped = _stopped(self._lock(conn, EMERGENCY_STOP, exclusive=False))
            opened: datetime = conn.execute(select(func.clock_timestamp())).scalar_one()
            yield stopped, opened

    @staticmethod
    def _lock(conn: Connection, key: str, exclusive: bool) -> str | None:
        q = select(controls.c.value).where(controls.c.key == key)
        q = q.with_for_update() if exclusive else q.with_for_update(read=True)
        return conn.execute(q).scalar_one_or_none()
