"""intents.tries: how often the reconciler re-enqueued an intent that stopped short

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("intents", sa.Column("tries", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("intents", "tries")
