"""notifications: the outbox of what followers and the operator hear, and each follower's
destination

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("followers", sa.Column("notify_url", sa.Text(), nullable=True))
    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("follower_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("signal_pk", sa.BigInteger(), nullable=True),
        sa.Column("intent_id", sa.BigInteger(), nullable=True),
        sa.Column("dedupe", sa.String(160), nullable=False, unique=True),
        sa.Column("facts", JSONB(), nullable=False, server_default="{}"),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("tries", sa.Integer(), nullable=False, server_default="0"),
        sa.Column(
            "next_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_notifications_due", "notifications", ["state", "next_at"])
    op.create_index("ix_notifications_destination", "notifications", ["destination", "id"])


def downgrade() -> None:
    op.drop_index("ix_notifications_destination", "notifications")
    op.drop_index("ix_notifications_due", "notifications")
    op.drop_table("notifications")
    op.drop_column("followers", "notify_url")
