"""Follower accounts (core/domain/accounts.py): their limits, their followings, and the
checks a new following of an account must pass."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from core.adapters.postgres.account_exposure import limits_of
from core.adapters.postgres.audit_log import write_audit
from core.adapters.postgres.db import Database
from core.adapters.postgres.tables import accounts, followers, leaders
from core.domain.accounts import AccountLimits
from core.domain.errors import NotFound, RejectedSignal


def account_wallet(conn: Connection, account_id: int, wallet: str, leader_id: int) -> None:
    """A new following of `account_id` trades for `wallet` and copies `leader_id`: the
    account must exist, be that wallet's, and not copy that leader already."""
    row = conn.execute(
        select(accounts.c.wallet).where(accounts.c.id == account_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"account {account_id} does not exist")
    if str(row.wallet).lower() != wallet.lower():
        raise RejectedSignal(
            "bad_account",
            f"account {account_id} is the wallet {row.wallet}; this key trades for {wallet}",
        )
    taken = conn.execute(
        select(followers.c.id).where(
            followers.c.account_id == account_id, followers.c.leader_id == leader_id
        )
    ).scalar()
    if taken is not None:
        raise RejectedSignal(
            "already_following",
            f"account {account_id} copies this leader already (follower {taken}): change "
            "its policy with `follower set-policy`",
        )


class AccountStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def limits(self, account_id: int) -> AccountLimits:
        with self.db.tx() as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
        if row is None:
            raise NotFound(f"account {account_id} does not exist")
        return limits_of(row)

    def set_limits(
        self, account_id: int, limits: AccountLimits, actor: str, reason: str | None
    ) -> None:
        values = {
            "max_position_usd_1e6": limits.max_position_usd_1e6,
            "max_total_usd_1e6": limits.max_total_usd_1e6,
            "assets": None if limits.assets is None else sorted(limits.assets),
            "opposite_sides": limits.opposite_sides,
        }
        with self.db.tx() as conn:
            n = conn.execute(
                update(accounts).where(accounts.c.id == account_id).values(**values)
            ).rowcount
            if n == 0:
                raise NotFound(f"account {account_id} does not exist")
            write_audit(conn, actor, "account.set_limits", reason, account_id=account_id,
                        **values)  # fmt: skip

    def list(self) -> list[dict[str, Any]]:
        """Every account with its limits and its followings (id, leader, paused, removed)."""
        f = followers.c
        with self.db.tx() as conn:
            rows = conn.execute(select(accounts).order_by(accounts.c.id)).all()
            followings = conn.execute(
                select(
                    f.account_id,
                    f.id,
                    leaders.c.address,
                    f.paused,
                    f.circuit_breaker,
                    f.removed_at.is_not(None).label("removed"),
                )
                .select_from(followers.join(leaders, leaders.c.id == f.leader_id))
                .order_by(f.account_id, f.id)
            ).all()
        by_account: dict[int, list[dict[str, Any]]] = {}
        for r in followings:
            by_account.setdefault(r.account_id, []).append(
                {
                    "follower": r.id,
                    "leader": r.address,
                    "paused": r.paused,
                    "circuit_breaker": r.circuit_breaker,
                    "removed": r.removed,
                }
            )
        return [
            {
                "id": r.id,
                "tg_user_id": r.tg_user_id,
                "wallet": r.wallet,
                "max_position_usd_1e6": r.max_position_usd_1e6,
                "max_total_usd_1e6": r.max_total_usd_1e6,
                "assets": None if r.assets is None else sorted(r.assets),
                "opposite_sides": r.opposite_sides,
                "followings": by_account.get(r.id, []),
            }
            for r in rows
        ]
