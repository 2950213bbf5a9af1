"""signal fraction and cause: a decrease in proportion carries the fraction (18 decimals)
of the leader's position it took; a liquidation or an auto-deleveraging of the leader
its cause

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("signals", sa.Column("fraction_1e18", sa.BigInteger(), nullable=True))
    op.add_column("signals", sa.Column("cause", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("signals", "cause")
    op.drop_column("signals", "fraction_1e18")
