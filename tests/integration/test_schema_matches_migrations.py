"""The migrations build exactly the schema core/adapters/postgres/tables.py declares: Alembic's
own comparison of a database migrated to head with the metadata finds nothing to change
(a column added to the tables without its migration, or the reverse, shows up here)."""

from __future__ import annotations

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from core.adapters.postgres.tables import OPEN_INTENT_STATES, metadata
from tests.support.databases import fresh_database


def test_a_database_migrated_to_head_is_the_declared_schema() -> None:
    with fresh_database("ct_schema") as url:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), metadata)
                gate_index = conn.execute(
                    text(
                        "SELECT pg_get_expr(indpred, indrelid) FROM pg_index"
                        " WHERE indexrelid = 'ix_intents_follower_seq_open'::regclass"
                    )
                ).scalar_one()
        finally:
            engine.dispose()
    assert diff == [], diff
    # Alembic does not compare an index's WHERE: the gate's partial index holds exactly the
    # states the gate asks about (a state added to INTENT_BEFORE_OUTCOME needs a migration)
    assert set(re.findall(r"'(\w+)'", gate_index)) == set(OPEN_INTENT_STATES), gate_index
