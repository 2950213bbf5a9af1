"""Fresh, uniquely named databases on the machine's PostgreSQL, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get(
    "COPYTRADE_TEST_PG_ADMIN", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def fresh_database(prefix: str = "ct_test", migrate: bool = True) -> Iterator[str]:
    from core.adapters.postgres.migrate import upgrade

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
