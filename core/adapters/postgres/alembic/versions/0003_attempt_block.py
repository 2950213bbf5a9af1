"""attempts.broadcast_block: the chain head when an attempt was first accepted

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("attempts", sa.Column("broadcast_block", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("attempts", "broadcast_block")
