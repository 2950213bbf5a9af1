"""the sequence gate's indexes. (1) A follower's intents not yet past their outcome, by sequence.
The gate asks, for an intent, whether an earlier one of its follower is still open; on the
whole-table index that walked every earlier intent of the follower (its history), for each
intent asked about: the reconciler's round took 16 s of PostgreSQL under a 20,000-intent
backlog (docs/benchmarks.md, B3). This one holds only the open intents (the states of
core/domain/states.py INTENT_BEFORE_OUTCOME, a superset of INTENT_BEFORE_SEND, so both
gates use it), and stays as small as the backlog. (2) A signal's pending intents: sizing's
lock query and the wake-up of a leader's next signal (`next_waiting`) read them by signal;
with the planner's statistics behind a fast-growing table they ANDed the signal's index with
every pending intent of every signal in ix_intents_state (40-80 ms each, on the serial path).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OPEN = ("cancelling", "created", "frozen", "held", "mined", "pending", "sent", "signed")


def upgrade() -> None:
    op.create_index(
        "ix_intents_follower_seq_open",
        "intents",
        ["follower_id", "seq"],
        postgresql_where=sa.text("state IN (" + ", ".join(f"'{s}'" for s in OPEN) + ")"),
    )
    op.create_index(
        "ix_intents_pending_signal",
        "intents",
        ["signal_pk"],
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_intents_pending_signal", table_name="intents")
    op.drop_index("ix_intents_follower_seq_open", table_name="intents")
