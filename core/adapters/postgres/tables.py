"""PostgreSQL schema (SQLAlchemy Core). Alembic migrations in core/adapters/postgres/alembic
are generated from this metadata."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from core.domain.states import INTENT_BEFORE_OUTCOME

metadata = MetaData()

# A follower's intents not yet past their outcome (either gate's holding states): the
# sequence gate's lookups (core/adapters/postgres/gate.py) read this index, as small as
# the backlog, instead of the follower's whole history; a signal's pending intents, for
# sizing and the wake-up of a leader's next signal (migration 0013).
OPEN_INTENT_STATES = tuple(sorted(s.value for s in INTENT_BEFORE_OUTCOME))

WEI = Numeric(78, 0)


def _now() -> Column[Any]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


leaders = Table(
    "leaders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("address", String(42), nullable=False, unique=True),
    _now(),
    # The leader watcher's cursor: last block read for this leader (NULL: from the next one).
    Column("watched_to", BigInteger),
)

watched_blocks = Table(
    "watched_blocks",
    metadata,
    Column("number", BigInteger, primary_key=True),
    Column("hash", String(66), nullable=False),
    Column("parent_hash", String(66), nullable=False),
    Column("seen_at", DateTime(timezone=True), server_default=func.now()),
)

leader_txs = Table(
    "leader_txs",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tx_hash", String(66), nullable=False),
    Column("action_index", Integer, nullable=False),  # the action's index within its tx
    Column("leader_id", Integer, ForeignKey("leaders.id"), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", String(66), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # signal | ignored | revoked
    Column("reason", Text),
    Column("signal_pk", BigInteger, ForeignKey("signals.id")),
    Column("payload", JSONB),  # the signal to submit (an outbox, drained after the commit)
    Column("orphaned", Boolean, nullable=False, server_default="false"),
    Column("seen_at", DateTime(timezone=True), server_default=func.now()),
    UniqueConstraint("tx_hash", "action_index", name="uq_leader_txs_action"),
)

# A follower account (0012): one wallet and one owner; its followings (`followers` rows, one
# per leader) share its limits across leaders. NULL limits: none.
accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tg_user_id", BigInteger, nullable=False),
    Column("wallet", String(42), nullable=False),  # positions and collateral are the wallet's
    Column("max_position_usd_1e6", BigInteger),  # per asset, across its followings
    Column("max_total_usd_1e6", BigInteger),  # every asset, across its followings
    Column("assets", ARRAY(Text)),
    # two followings on opposite sides of one asset: hedge (both kept, GMX's one position
    # per side) | reject (the later is rejected `opposite_side`)
    Column("opposite_sides", String(8), nullable=False, server_default="hedge"),
    _now(),
)

# A following: one leader copied by an account, with its own policy (`policies`). Called a
# follower throughout the code and the CLI (its id is the follower id).
followers = Table(
    "followers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tg_user_id", BigInteger, nullable=False),
    Column("leader_id", Integer, ForeignKey("leaders.id"), nullable=False, index=True),
    Column("signer_ref", Text, nullable=False),
    Column("address", String(42), nullable=False),  # the signer's: nonces and gas
    # The wallet the signer trades for as its GMX subaccount (0009); NULL: its own address.
    # Positions, collateral and the order's account are the wallet's.
    Column("subaccount_of", String(42)),
    # Where the follower hears what happened (0010): an apprise URL, or `telegram` (the
    # chat is tg_user_id, the bot token a setting); NULL: nowhere.
    Column("notify_url", Text),
    Column("paused", Boolean, nullable=False, server_default="false"),
    Column("circuit_breaker", Boolean, nullable=False, server_default="false"),
    Column("in_cohort", Boolean, nullable=False, server_default="false"),
    _now(),
    # Removed by the operator (0011): no new intents; the row stays for its history.
    Column("removed_at", DateTime(timezone=True)),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True),
    UniqueConstraint("account_id", "leader_id", name="uq_followers_account_leader"),
)

policies = Table(
    "policies",
    metadata,
    Column("follower_id", Integer, ForeignKey("followers.id"), primary_key=True),
    Column("max_leverage_x", Integer, nullable=False),
    Column("max_position_usd_1e6", BigInteger, nullable=False),
    Column("assets", ARRAY(Text), nullable=False),
    Column("sizing_kind", String(32), nullable=False),
    Column("sizing_value", Numeric(38, 18), nullable=False),
    Column("max_slippage_bps", Integer, nullable=False, server_default="50"),
    # The loss guard (0011): NULL is no limit. Drawdown from the equity high-water mark in
    # basis points; the day's loss (UTC) from the day's first equity reading.
    Column("max_drawdown_bps", Integer),
    Column("max_daily_loss_usd_1e6", BigInteger),
    # Pausing or removing the follower also closes its positions (0011).
    Column("close_on_stop", Boolean, nullable=False, server_default="false"),
)

# The loss guard's marks per follower (0011), from its venue equity: the high-water mark,
# the day's first reading, the last reading. Deleted when the breaker is reset (the next
# reading starts the marks again).
follower_equity = Table(
    "follower_equity",
    metadata,
    Column("follower_id", Integer, ForeignKey("followers.id"), primary_key=True),
    Column("high_water_usd_1e6", BigInteger, nullable=False),
    Column("day", Date, nullable=False),
    Column("day_start_usd_1e6", BigInteger, nullable=False),
    Column("last_usd_1e6", BigInteger, nullable=False),
    Column("last_block", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

signals = Table(
    "signals",
    metadata,
    # `id` is also the signal's sequence: intake order (BIGSERIAL).
    Column("id", BigInteger, primary_key=True),
    Column("signal_id", Text, nullable=False, unique=True),
    Column("leader_id", Integer, ForeignKey("leaders.id"), nullable=False),
    Column("action", String(16), nullable=False),
    Column("asset", String(16), nullable=False),
    Column("side", String(8), nullable=False),
    Column("collateral_usd_1e6", BigInteger, nullable=False),
    Column("leverage_x", Integer, nullable=False),
    Column("price_usd_1e6", BigInteger),
    Column("issued_at", BigInteger),
    Column("fraction_1e18", BigInteger),  # a decrease in proportion (0008)
    Column("cause", String(16)),  # liquidation | adl (0008)
    # The leader's equity as its producer gave it (equity-ratio sizing; 0011).
    Column("leader_equity_usd_1e6", BigInteger),
    # An operator's signal for one follower only (`follower close-all`; 0011). No foreign
    # key on purpose: the implicit joins intents-followers-signals would then take both
    # paths and match nothing.
    Column("follower_id", Integer),
    Column("content_hash", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("reason", Text),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_signals_leader_state", "leader_id", "state"),
)

intents = Table(
    "intents",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("signal_pk", BigInteger, ForeignKey("signals.id"), nullable=False, index=True),
    Column("follower_id", Integer, ForeignKey("followers.id"), nullable=False),
    Column("leg", Integer, nullable=False, server_default="0"),
    Column("seq", BigInteger, nullable=False),
    Column("idempotency_key", String(66), nullable=False, unique=True),
    Column("state", String(16), nullable=False),
    Column("reason", Text),
    Column("mode", String(8)),
    Column("action", String(16), nullable=False),
    Column("asset", String(16), nullable=False),
    Column("side", String(8), nullable=False),
    Column("collateral_usd_1e6", BigInteger),
    Column("leverage_x", Integer),
    Column("notional_usd_1e6", BigInteger),
    Column("acceptable_price_usd_1e6", BigInteger),
    Column("signer_address", String(42)),
    Column("nonce", BigInteger),
    Column("tx_hash", String(66)),
    Column("calldata", LargeBinary),
    Column("block_number", BigInteger),
    Column("block_hash", String(66)),
    Column("tries", Integer, nullable=False, server_default="0"),  # reconciler re-enqueues
    # A two-phase venue (GMX): the request's order key, and the keeper's fill.
    Column("venue_order_key", String(66), index=True),
    Column("fill_price_usd_1e6", BigInteger),
    Column("fill_size_usd_1e6", BigInteger),
    Column("executed_block", BigInteger),
    Column("executed_block_hash", String(66)),
    # What an equity-ratio order was sized from (0011).
    Column("follower_equity_usd_1e6", BigInteger),
    Column("leader_equity_usd_1e6", BigInteger),
    # A close (or decrease) of a following whose account's other followings hold the same
    # venue position: its share of that position, fixed at sizing (0012).
    Column("share_1e18", BigInteger),
    _now(),
    Column("sized_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_intents_follower_seq", "follower_id", "seq"),
    Index(
        "ix_intents_follower_seq_open",
        "follower_id",
        "seq",
        postgresql_where=text("state IN (" + ", ".join(f"'{s}'" for s in OPEN_INTENT_STATES) + ")"),
    ),
    Index("ix_intents_pending_signal", "signal_pk", postgresql_where=text("state = 'pending'")),
    Index("ix_intents_state", "state"),
    UniqueConstraint("signer_address", "nonce", name="uq_intents_signer_nonce"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("intent_id", BigInteger, ForeignKey("intents.id"), nullable=False, index=True),
    Column("attempt_no", Integer, nullable=False),
    Column("kind", String(16), nullable=False, server_default="order"),
    Column("nonce", BigInteger, nullable=False),
    Column("tx_hash", String(66), nullable=False, unique=True),
    Column("raw_tx", LargeBinary, nullable=False),
    Column("max_fee_per_gas", WEI, nullable=False),
    Column("max_priority_fee_per_gas", WEI, nullable=False),
    Column("gas_limit", BigInteger, nullable=False),
    Column("outcome", String(16)),
    Column("error", Text),
    _now(),
    Column("broadcast_at", DateTime(timezone=True)),
    Column("sent_by", Text),  # hostname:pid of the process whose broadcast was accepted
    Column("broadcast_block", BigInteger),  # chain head when first accepted
    UniqueConstraint("intent_id", "attempt_no", name="uq_attempts_intent_no"),
)

# An intent whose nonce a node showed taken by a transaction that is not ours (tx_hash,
# in block_number/block_hash): the next stuck scan re-signs only if it sees the same.
nonce_suspects = Table(
    "nonce_suspects",
    metadata,
    Column("intent_id", BigInteger, ForeignKey("intents.id"), primary_key=True),
    Column("tx_hash", String(66), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", String(66), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

signers = Table(
    "signers",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("chain_id", BigInteger, nullable=False),
    Column("next_nonce", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

controls = Table(
    "controls",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The notifications outbox (0010): a row written in the same transaction as the change it
# reports, drained by copytrade.notify (core/services/notifying.py). `dedupe` makes a
# report of one change one row, whoever writes it.
notifications = Table(
    "notifications",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("destination", String(64), nullable=False),  # follower:<id> | operator
    # informational, no foreign key: an outbox insert must take no lock on the follower
    # row (sizing holds it FOR UPDATE while a leader reorg rejects the same intents)
    Column("follower_id", Integer),
    Column("event", String(32), nullable=False),
    Column("signal_pk", BigInteger),  # a follower's reports of one signal go out as one
    Column("intent_id", BigInteger),
    Column("dedupe", String(160), nullable=False, unique=True),
    Column("facts", JSONB, nullable=False, server_default="{}"),
    Column("state", String(16), nullable=False, server_default="pending"),  # sent | failed
    Column("tries", Integer, nullable=False, server_default="0"),
    Column("next_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    _now(),
    Column("sent_at", DateTime(timezone=True)),
    Index("ix_notifications_due", "state", "next_at"),
    Index("ix_notifications_destination", "destination", "id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("reason", Text),
    Column("details", JSONB, nullable=False, server_default="{}"),
)
