"""controls defaults (requested DRY, stop off) and attempts.sent_by

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The stop flag's row must exist: the pre-broadcast check takes a shared lock on it.
    op.execute(
        "INSERT INTO controls (key, value) VALUES ('requested_mode', 'dry'), "
        "('emergency_stop', 'off') ON CONFLICT (key) DO NOTHING"
    )
    op.add_column("attempts", sa.Column("sent_by", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("attempts", "sent_by")
