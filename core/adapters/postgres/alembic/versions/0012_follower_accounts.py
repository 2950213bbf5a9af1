"""follower accounts: one wallet and owner holding followings of several leaders, with limits
across them. Each existing follower becomes a following of an account of its own (the
account's id is the follower's), with no account limit: nothing behaves differently.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=False),
        sa.Column("wallet", sa.String(42), nullable=False),
        sa.Column("max_position_usd_1e6", sa.BigInteger(), nullable=True),
        sa.Column("max_total_usd_1e6", sa.BigInteger(), nullable=True),
        sa.Column("assets", ARRAY(sa.Text()), nullable=True),
        sa.Column("opposite_sides", sa.String(8), nullable=False, server_default="hedge"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.add_column("intents", sa.Column("share_1e18", sa.BigInteger(), nullable=True))
    op.add_column("followers", sa.Column("account_id", sa.Integer(), nullable=True))
    op.execute(
        "INSERT INTO accounts (id, tg_user_id, wallet, created_at) "
        "SELECT id, tg_user_id, coalesce(subaccount_of, address), created_at FROM followers"
    )
    op.execute(
        "SELECT setval(pg_get_serial_sequence('accounts', 'id'), "
        "(SELECT coalesce(max(id), 0) + 1 FROM accounts), false)"
    )
    op.execute("UPDATE followers SET account_id = id")
    op.alter_column("followers", "account_id", nullable=False)
    op.create_foreign_key(
        "followers_account_id_fkey", "followers", "accounts", ["account_id"], ["id"]
    )
    op.create_index("ix_followers_account_id", "followers", ["account_id"])
    op.create_unique_constraint(
        "uq_followers_account_leader", "followers", ["account_id", "leader_id"]
    )


def downgrade() -> None:
    op.drop_constraint("uq_followers_account_leader", "followers")
    op.drop_index("ix_followers_account_id", "followers")
    op.drop_constraint("followers_account_id_fkey", "followers")
    op.drop_column("followers", "account_id")
    op.drop_table("accounts")
    op.drop_column("intents", "share_1e18")
