"""The migrations build exactly the schema core/adapters/postgres/tables.py declares: Alembic's
own comparison of a database migrated to head with the metadata finds nothing to change
(a column added to the tables without its migration, or the reverse, shows up here)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from core.adapters.postgres.tables import metadata
from tests.support.databases import fresh_database


def test_a_database_migrated_to_head_is_the_declared_schema() -> None:
    with fresh_database("ct_schema") as url:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), metadata)
        finally:
            engine.dispose()
    assert diff == [], diff
