"""follower subaccount: the wallet a follower's key trades for as its GMX subaccount (NULL:
the key's own address is the account)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("followers", sa.Column("subaccount_of", sa.String(42), nullable=True))


def downgrade() -> None:
    op.drop_column("followers", "subaccount_of")
