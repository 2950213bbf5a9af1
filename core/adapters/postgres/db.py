"""Engine per process, created on first use (prefork workers fork after import)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from core.domain.errors import TransientError

log = logging.getLogger(__name__)


class Database:
    def __init__(self, url: str, pool_size: int = 5, application_name: str = "copytrade") -> None:
        self.url = url
        self.application_name = application_name
        self._pool_size = pool_size
        self._engine: Engine | None = None
        self._pid = 0

    @property
    def engine(self) -> Engine:
        # A pool inherited across fork would share sockets with the parent: make a new one.
        if self._engine is None or self._pid != os.getpid():
            self._engine = create_engine(
                self.url,
                pool_size=self._pool_size,
                max_overflow=5,
                # A ping per checkout costs a round trip per transaction, but without it
                # every reader that does not retry (the CLI during an outage, status)
                # fails once per stale pooled connection after PostgreSQL restarts.
                pool_pre_ping=True,
                connect_args={"connect_timeout": 5, "application_name": self.application_name},
            )
            self._pid = os.getpid()
        return self._engine

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """One transaction; connection-level failures become TransientError. Callbacks
        registered with `after_commit` run once it has committed (never on rollback).
        On a connection invalidated under the body (a terminated backend) the clean-up of
        the hook list raises PendingRollbackError: it is suppressed, so the OperationalError
        that makes the task retry is the one that propagates."""
        done: list[Callable[[], None]] = []
        try:
            with self.engine.begin() as conn:
                conn.info["after_commit"] = done
                try:
                    yield conn
                finally:
                    with contextlib.suppress(SQLAlchemyError):
                        conn.info.pop("after_commit", None)
        except OperationalError as exc:
            raise TransientError(f"PostgreSQL: {str(exc.orig).strip()[:200]}") from None
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise TransientError("PostgreSQL connection lost") from None
            raise
        for fn in done:
            try:
                fn()
            except Exception:  # what was committed stays committed; only a count is lost
                log.exception("after-commit callback failed")

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def after_commit(conn: Connection, fn: Callable[[], None]) -> None:
    """Run `fn` once the transaction `conn` is in has committed (metrics count only what
    happened). Outside `Database.tx` it runs at once."""
    hooks = conn.info.get("after_commit")
    if hooks is None:
        fn()
    else:
        hooks.append(fn)


@contextmanager
def session_lock(db: Database, key: int | str) -> Iterator[bool]:
    """A session advisory lock on a connection of its own, held for the block (released by
    PostgreSQL if this process dies); True when this process got it (`key`: a number or a SQL
    expression of one). One watcher round, one
    notifications drain, one alerts round at a time."""
    try:
        with db.engine.connect() as conn:
            got = bool(conn.execute(text(f"SELECT pg_try_advisory_lock({key})")).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text(f"SELECT pg_advisory_unlock({key})"))
                    conn.commit()
    except OperationalError as exc:
        raise TransientError(f"PostgreSQL: {str(exc.orig).strip()[:200]}") from None
