"""follower money guards: the loss guard's limits and marks, close-on-stop, removal, the
equity figures an equity-ratio intent was sized from, and operator-targeted signals

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("policies", sa.Column("max_drawdown_bps", sa.Integer(), nullable=True))
    op.add_column("policies", sa.Column("max_daily_loss_usd_1e6", sa.BigInteger(), nullable=True))
    op.add_column(
        "policies",
        sa.Column("close_on_stop", sa.Boolean(), nullable=False, server_default="false"),
    )
    op.add_column("followers", sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("intents", sa.Column("follower_equity_usd_1e6", sa.BigInteger(), nullable=True))
    op.add_column("intents", sa.Column("leader_equity_usd_1e6", sa.BigInteger(), nullable=True))
    op.add_column("signals", sa.Column("leader_equity_usd_1e6", sa.BigInteger(), nullable=True))
    op.add_column("signals", sa.Column("follower_id", sa.Integer(), nullable=True))
    op.create_table(
        "follower_equity",
        sa.Column(
            "follower_id", sa.Integer(), sa.ForeignKey("followers.id"), primary_key=True
        ),
        sa.Column("high_water_usd_1e6", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("day_start_usd_1e6", sa.BigInteger(), nullable=False),
        sa.Column("last_usd_1e6", sa.BigInteger(), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("follower_equity")
    op.drop_column("signals", "follower_id")
    op.drop_column("signals", "leader_equity_usd_1e6")
    op.drop_column("intents", "leader_equity_usd_1e6")
    op.drop_column("intents", "follower_equity_usd_1e6")
    op.drop_column("followers", "removed_at")
    op.drop_column("policies", "close_on_stop")
    op.drop_column("policies", "max_daily_loss_usd_1e6")
    op.drop_column("policies", "max_drawdown_bps")
