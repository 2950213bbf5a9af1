"""nonce_suspects: an intent whose nonce a node showed taken by a transaction not ours,
remembered between stuck scans (re-signed only when two scans in a row agree)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nonce_suspects",
        sa.Column("intent_id", sa.BigInteger(), sa.ForeignKey("intents.id"), primary_key=True),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("nonce_suspects")
