"""venue outcome: a two-phase venue's order key for the request, and the fill (price,
size, the block of the execution) once a keeper executed it

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = (
    ("venue_order_key", sa.String(66)),
    ("fill_price_usd_1e6", sa.BigInteger()),
    ("fill_size_usd_1e6", sa.BigInteger()),
    ("executed_block", sa.BigInteger()),
    ("executed_block_hash", sa.String(66)),
)


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.add_column("intents", sa.Column(name, kind, nullable=True))
    op.create_index("ix_intents_venue_order_key", "intents", ["venue_order_key"])


def downgrade() -> None:
    op.drop_index("ix_intents_venue_order_key", "intents")
    for name, _ in reversed(COLUMNS):
        op.drop_column("intents", name)
