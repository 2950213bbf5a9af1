"""Leader watcher: per-leader block cursor, the blocks it read, the leader transactions it
decoded (signal, ignored or revoked)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The last block read for this leader; NULL: start at the next block the watcher sees.
    op.add_column("leaders", sa.Column("watched_to", sa.BigInteger(), nullable=True))
    op.create_table(
        "watched_blocks",
        sa.Column("number", sa.BigInteger(), primary_key=True),
        sa.Column("hash", sa.String(66), nullable=False),
        sa.Column("parent_hash", sa.String(66), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.create_table(
        "leader_txs",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("action_index", sa.Integer(), nullable=False),
        sa.Column("leader_id", sa.Integer(), sa.ForeignKey("leaders.id"), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),  # signal | ignored | revoked
        sa.Column("reason", sa.Text()),
        sa.Column("signal_pk", sa.BigInteger(), sa.ForeignKey("signals.id")),
        # The signal payload to submit (an outbox: submitted after the block's commit).
        sa.Column("payload", postgresql.JSONB()),
        # Its block left the canonical chain; revoked unless re-included.
        sa.Column("orphaned", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("seen_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.UniqueConstraint("tx_hash", "action_index", name="uq_leader_txs_action"),
    )


def downgrade() -> None:
    op.drop_table("leader_txs")
    op.drop_table("watched_blocks")
    op.drop_column("leaders", "watched_to")
