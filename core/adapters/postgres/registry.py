"""Leaders, followers, policies, controls and the audit log."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import uuid4

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.adapters.postgres import outbox
from core.adapters.postgres.accounts import account_wallet
from core.adapters.postgres.audit_log import write_audit
from core.adapters.postgres.db import Database
from core.adapters.postgres.tables import (
    accounts,
    follower_equity,
    followers,
    intents,
    leaders,
    policies,
)
from core.domain.errors import InFlight, NotFound
from core.domain.risk import Policy
from core.domain.rows import FollowerRow
from core.domain.sizing import SizingRule
from core.domain.states import INTENT_TERMINAL

FOLLOWER_COLUMNS = (
    followers.c.id,
    followers.c.tg_user_id,
    followers.c.leader_id,
    followers.c.address,
    followers.c.signer_ref,
    followers.c.paused,
    followers.c.circuit_breaker,
    followers.c.in_cohort,
    followers.c.subaccount_of,
    leaders.c.address.label("leader_address"),
    policies.c.max_leverage_x,
    policies.c.max_position_usd_1e6,
    policies.c.assets,
    policies.c.sizing_kind,
    policies.c.sizing_value,
    policies.c.max_slippage_bps,
    policies.c.max_drawdown_bps,
    policies.c.max_daily_loss_usd_1e6,
    policies.c.close_on_stop,
    followers.c.removed_at,
    followers.c.account_id,
)


def follower_query() -> Any:
    return select(*FOLLOWER_COLUMNS).select_from(
        followers.join(leaders, leaders.c.id == followers.c.leader_id).join(
            policies, policies.c.follower_id == followers.c.id
        )
    )


def follower_from_row(r: Any) -> FollowerRow:
    policy = Policy(
        max_leverage_x=r.max_leverage_x,
        max_position_usd_1e6=r.max_position_usd_1e6,
        assets=frozenset(r.assets),
        sizing=SizingRule(r.sizing_kind, Decimal(r.sizing_value)),
        max_slippage_bps=r.max_slippage_bps,
        paused=r.paused,
        circuit_breaker=r.circuit_breaker,
        max_drawdown_bps=r.max_drawdown_bps,
        max_daily_loss_usd_1e6=r.max_daily_loss_usd_1e6,
        close_on_stop=r.close_on_stop,
    )
    return FollowerRow(
        r.id,
        r.tg_user_id,
        r.leader_id,
        r.leader_address,
        r.address,
        r.signer_ref,
        r.paused,
        r.circuit_breaker,
        r.in_cohort,
        policy,
        r.subaccount_of,
        r.removed_at is not None,
        r.account_id,
    )


class Registry:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- leaders -------------------------------------------------------------------------
    def add_leader(
        self, address: str, actor: str, watched_to: int | None = None, rewind: bool = False
    ) -> tuple[int, bool]:
        """(leader id, created?) — adding a known leader again is not an error.
        `watched_to`: the last block NOT to read for this leader (None: the watcher starts
        at the next block it sees); with `rewind` an existing leader is read again from
        there (a back-fill: already-seen transactions are not signalled twice)."""
        with self.db.tx() as conn:
            row = conn.execute(
                pg_insert(leaders)
                .values(address=address, watched_to=watched_to)
                .on_conflict_do_nothing()
                .returning(leaders.c.id)
            ).first()
            if row is not None:
                write_audit(conn, actor, "leader.add", None, address=address, from_block=watched_to)
                return int(row.id), True
            existing = conn.execute(select(leaders.c.id).where(leaders.c.address == address)).one()
            if rewind and watched_to is not None:
                conn.execute(
                    update(leaders).where(leaders.c.id == existing.id).values(watched_to=watched_to)
                )
                write_audit(
                    conn, actor, "leader.backfill", None, address=address, from_block=watched_to
                )
            return int(existing.id), False

    def leader_id(self, address: str) -> int | None:
        with self.db.tx() as conn:
            return conn.execute(
                select(leaders.c.id).where(leaders.c.address == address)
            ).scalar_one_or_none()

    def list_leaders(self) -> list[dict[str, Any]]:
        with self.db.tx() as conn:
            rows = conn.execute(select(leaders).order_by(leaders.c.id)).mappings().all()
            return [{"id": r["id"], "address": r["address"]} for r in rows]

    # -- followers -----------------------------------------------------------------------
    def add_follower(
        self,
        *,
        tg_user_id: int,
        leader_id: int,
        signer_ref: str,
        address: str,
        policy: Policy,
        in_cohort: bool,
        actor: str,
        subaccount_of: str | None = None,
        account_id: int | None = None,
    ) -> int:
        """A following of `leader_id`: in the follower account `account_id` (its wallet must
        be the account's; one following per leader and account), or in a new account of its
        own."""
        wallet = subaccount_of or address
        with self.db.tx() as conn:
            if account_id is None:
                account_id = conn.execute(
                    insert(accounts)
                    .values(tg_user_id=tg_user_id, wallet=wallet)
                    .returning(accounts.c.id)
                ).scalar_one()
            else:
                account_wallet(conn, account_id, wallet, leader_id)
            fid = conn.execute(
                insert(followers)
                .values(
                    tg_user_id=tg_user_id,
                    leader_id=leader_id,
                    signer_ref=signer_ref,
                    address=address,
                    in_cohort=in_cohort,
                    subaccount_of=subaccount_of,
                    account_id=account_id,
                )
                .returning(followers.c.id)
            ).scalar_one()
            conn.execute(insert(policies).values(follower_id=fid, **_policy_values(policy)))
            write_audit(
                conn,
                actor,
                "follower.add",
                None,
                follower_id=fid,
                account_id=account_id,
                address=address,
                signer_ref=signer_ref,
                subaccount_of=subaccount_of,
                **_policy_audit(policy),
            )
            return int(fid)

    def follower(self, follower_id: int) -> FollowerRow:
        with self.db.tx() as conn:
            r = conn.execute(follower_query().where(followers.c.id == follower_id)).first()
        if r is None:
            raise NotFound(f"follower {follower_id} does not exist")
        return follower_from_row(r)

    def list_followers(self, leader_id: int | None = None) -> list[FollowerRow]:
        q = follower_query().order_by(followers.c.id)
        if leader_id is not None:
            q = q.where(followers.c.leader_id == leader_id)
        with self.db.tx() as conn:
            return [follower_from_row(r) for r in conn.execute(q)]

    def set_follower_flags(
        self, follower_id: int, actor: str, reason: str | None, **flags: bool
    ) -> None:
        with self.db.tx() as conn:
            n = conn.execute(
                update(followers).where(followers.c.id == follower_id).values(**flags)
            ).rowcount
            if n == 0:
                raise NotFound(f"follower {follower_id} does not exist")
            if flags.get("circuit_breaker") is False:
                # the breaker reset: the loss guard's marks start again from the next reading
                conn.execute(
                    delete(follower_equity).where(follower_equity.c.follower_id == follower_id)
                )
            write_audit(conn, actor, "follower.flags", reason, follower_id=follower_id, **flags)

    def remove_follower(self, follower_id: int, actor: str, reason: str | None, kept: bool) -> None:
        """No new intents for the follower (paused, removed); its rows stay. `kept`: it
        still held positions, left as they are on the operator's word."""
        with self.db.tx() as conn:
            n = conn.execute(
                update(followers)
                .where(followers.c.id == follower_id)
                .values(removed_at=func.now(), paused=True)
            ).rowcount
            if n == 0:
                raise NotFound(f"follower {follower_id} does not exist")
            write_audit(conn, actor, "follower.remove", reason, follower_id=follower_id,
                        positions_kept=kept)  # fmt: skip

    def set_signer(
        self, follower_id: int, signer_ref: str, address: str, actor: str, reason: str | None
    ) -> None:
        """Move the follower — and every following of its account: one wallet, one key — to
        a new key, only when nothing of theirs is unfinished: an order signed (or about to
        be) by the old key must end first (its nonce is the old key's). A key trading for
        itself is the account's wallet: the account moves with it."""
        with self.db.tx() as conn:
            row = conn.execute(
                select(
                    followers.c.address, followers.c.account_id, followers.c.subaccount_of
                ).where(followers.c.id == follower_id)
            ).first()
            if row is None:
                raise NotFound(f"follower {follower_id} does not exist")
            # every following of the account, locked in id order (as sizing takes them)
            same = (
                conn.execute(
                    select(followers.c.id)
                    .where(followers.c.account_id == row.account_id)
                    .order_by(followers.c.id)
                    .with_for_update()
                )
                .scalars()
                .all()
            )
            busy = conn.execute(
                select(func.count()).where(
                    intents.c.follower_id.in_(same),
                    intents.c.state.not_in([s.value for s in INTENT_TERMINAL]),
                )
            ).scalar_one()
            if busy:
                raise InFlight(
                    f"follower {follower_id} (account {row.account_id}): {busy} intent(s) of "
                    "the old key not finished"
                )
            conn.execute(
                update(followers)
                .where(followers.c.id.in_(same))
                .values(signer_ref=signer_ref, address=address)
            )
            if row.subaccount_of is None:
                conn.execute(
                    update(accounts).where(accounts.c.id == row.account_id).values(wallet=address)
                )
            write_audit(
                conn, actor, "follower.set_signer", reason, follower_id=follower_id,
                followings=list(same), old_address=row.address, new_address=address,
            )  # fmt: skip

    def set_notify_url(
        self, follower_id: int, url: str | None, shown: str, actor: str, reason: str | None
    ) -> None:
        """Where the follower hears what happened (None: nowhere); audited with `shown`,
        the URL without what may be a token."""
        with self.db.tx() as conn:
            n = conn.execute(
                update(followers).where(followers.c.id == follower_id).values(notify_url=url)
            ).rowcount
            if n == 0:
                raise NotFound(f"follower {follower_id} does not exist")
            write_audit(
                conn, actor, "follower.notify", reason, follower_id=follower_id, destination=shown
            )

    def notify_test(self, follower_id: int, actor: str) -> bool:
        """A test message to the follower's destination, through the outbox."""
        with self.db.tx() as conn:
            return outbox.add(
                conn,
                f"follower:{follower_id}",
                "test",
                f"test:{follower_id}:{actor}:{uuid4().hex}",
                {"text": "copytrade: this destination works"},
                follower_id=follower_id,
            )

    def audit(self, actor: str, action: str, reason: str | None, **details: Any) -> None:
        """An operator action that changes no row of ours (a wallet's set-up sent for it)."""
        with self.db.tx() as conn:
            write_audit(conn, actor, action, reason, **details)

    def set_policy(self, follower_id: int, policy: Policy, actor: str, reason: str | None) -> None:
        with self.db.tx() as conn:
            n = conn.execute(
                update(policies)
                .where(policies.c.follower_id == follower_id)
                .values(**_policy_values(policy))
            ).rowcount
            if n == 0:
                raise NotFound(f"follower {follower_id} does not exist")
            write_audit(
                conn,
                actor,
                "follower.set_policy",
                reason,
                follower_id=follower_id,
                **_policy_audit(policy),
            )


def _policy_values(p: Policy) -> dict[str, Any]:
    return {
        "max_leverage_x": p.max_leverage_x,
        "max_position_usd_1e6": p.max_position_usd_1e6,
        "assets": sorted(p.assets),
        "sizing_kind": p.sizing.kind,
        "sizing_value": p.sizing.value,
        "max_slippage_bps": p.max_slippage_bps,
        "max_drawdown_bps": p.max_drawdown_bps,
        "max_daily_loss_usd_1e6": p.max_daily_loss_usd_1e6,
        "close_on_stop": p.close_on_stop,
    }


def _policy_audit(p: Policy) -> dict[str, Any]:
    values = _policy_values(p)
    values["sizing_value"] = str(values["sizing_value"])
    return values
