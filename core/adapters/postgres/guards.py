"""The loss guard's store: which followers have a guard, their marks (follower_equity), and a
trip — the circuit breaker set, audited with the figures and told to the follower and the
operator through the outbox — in the transaction that records the reading that crossed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.adapters.postgres import outbox
from core.adapters.postgres.audit_log import write_audit
from core.adapters.postgres.db import Database
from core.adapters.postgres.tables import follower_equity, followers, policies
from core.domain.equity import GuardLimits, Marks
from core.faults import pause

ACTOR = "loss-guard"


class GuardStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def guarded(self) -> list[tuple[int, str, GuardLimits]]:
        """(follower id, account, limits) of each follower with a loss limit, breaker off,
        not removed."""
        f, p = followers.c, policies.c
        q = (
            select(f.id, f.address, f.subaccount_of, p.max_drawdown_bps, p.max_daily_loss_usd_1e6)
            .select_from(followers.join(policies, p.follower_id == f.id))
            .where(
                or_(p.max_drawdown_bps.is_not(None), p.max_daily_loss_usd_1e6.is_not(None)),
                f.circuit_breaker.is_(False),
                f.removed_at.is_(None),
            )
            .order_by(f.id)
        )
        with self.db.tx() as conn:
            return [
                (r.id, r.subaccount_of or r.address,
                 GuardLimits(r.max_drawdown_bps, r.max_daily_loss_usd_1e6))
                for r in conn.execute(q)
            ]  # fmt: skip

    def record(
        self,
        follower_id: int,
        advance: Callable[[Marks | None], Marks],
        judge: Callable[[Marks], str | None],
        operator: bool,
    ) -> tuple[Marks, str | None]:
        """The follower's marks moved by `advance` under its marks' row lock; when `judge`
        finds a limit crossed, the breaker is set in the same transaction — on every
        following of its account: the equity is the wallet's — once (a breaker already on is
        no new trip), and the trip audited and reported. Returns the marks and the trip's
        reason (None: no new trip)."""
        fe = follower_equity.c
        with self.db.tx() as conn:
            # The account's follower rows first (id order, as sizing takes them), then the
            # marks: the order the breaker's reset takes them in (registry.set_follower_flags),
            # so a trip never deadlocks with a reset or a sizing.
            account = select(followers.c.account_id).where(followers.c.id == follower_id)
            same = (
                conn.execute(
                    select(followers.c.id)
                    .where(followers.c.account_id == account.scalar_subquery())
                    .order_by(followers.c.id)
                    .with_for_update()
                )
                .scalars()
                .all()
            )
            row = conn.execute(
                select(follower_equity).where(fe.follower_id == follower_id).with_for_update()
            ).first()
            marks = advance(None if row is None else _marks(row))
            values = {
                "high_water_usd_1e6": marks.high_water_usd_1e6,
                "day": marks.day,
                "day_start_usd_1e6": marks.day_start_usd_1e6,
                "last_usd_1e6": marks.last_usd_1e6,
                "last_block": marks.last_block,
            }
            conn.execute(
                pg_insert(follower_equity)
                .values(follower_id=follower_id, **values)
                .on_conflict_do_update(index_elements=[fe.follower_id], set_=values)
            )
            why = judge(marks)
            if why is None:
                return marks, None
            pause("guard.before_trip")
            tripped = set(
                conn.execute(
                    update(followers)
                    .where(followers.c.id.in_(same), followers.c.circuit_breaker.is_(False))
                    .values(circuit_breaker=True)
                    .returning(followers.c.id)
                ).scalars()
            )
            if follower_id not in tripped:
                return marks, None
            figures = {k: v for k, v in values.items() if k != "day"} | {"day": str(marks.day)}
            write_audit(conn, ACTOR, "follower.loss_guard", why, follower_id=follower_id,
                        followings=sorted(tripped), **figures)  # fmt: skip
            episode = f"{follower_id}:{marks.last_block}"
            also = sorted(tripped - {follower_id})
            text = f"follower {follower_id}: circuit breaker tripped by the loss guard: {why}"
            if also:
                text += f" (its account's other followings too: {also})"
            if operator:
                outbox.add(conn, "operator", "loss_guard", f"loss_guard:{episode}",
                           {"text": text})  # fmt: skip
            told = conn.execute(
                select(followers.c.id).where(
                    followers.c.id.in_(sorted(tripped)), followers.c.notify_url.is_not(None)
                )
            ).scalars()
            for fid in told:
                outbox.add(conn, f"follower:{fid}", "loss_guard",
                           f"loss_guard:{episode}:follower:{fid}", {"text": why},
                           follower_id=fid)  # fmt: skip
            return marks, why


def _marks(r: Any) -> Marks:
    return Marks(r.high_water_usd_1e6, r.day, r.day_start_usd_1e6, r.last_usd_1e6, r.last_block)
