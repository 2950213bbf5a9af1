"""Sizing a signal's pending intents under the followers' row locks (then their accounts'),
behind the sequence gate: the heart of the `size` step's transaction (SignalStore.size_pending).

The follower rows are locked (FOR NO KEY UPDATE) in id order, then the accounts with a
limit or several followings (core/adapters/postgres/account_exposure.py) in id order; each
intent is decided by the caller's `sizer` (core/services/sizing.py) from the exposure read
under those locks, and written with its sizes, its equity figures and its share of a shared
venue position in one compare-and-set per new state. One follower's bad data fails that
intent alone.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from core.adapters.postgres import account_exposure
from core.adapters.postgres.cas import cas_many
from core.adapters.postgres.db import Database
from core.adapters.postgres.gate import earlier_intent_unsent, earlier_signal_open
from core.adapters.postgres.registry import follower_from_row, follower_query
from core.adapters.postgres.tables import followers, intents, signals
from core.domain.accounts import AccountExposure
from core.domain.errors import TransientError
from core.domain.risk import Decision
from core.domain.rows import SizingInput, SizingOutcome
from core.domain.states import INTENT_NOT_COUNTED, IntentState
from core.domain.types import CANCEL_ACTION, Action
from core.faults import pause

log = logging.getLogger(__name__)

SIZED_PARAMS = (
    "b_collateral", "b_leverage", "b_notional", "b_price", "b_feq", "b_leq", "b_share"
)  # fmt: skip


def _earlier_open(conn: Connection, pk: int, leader_id: int) -> bool:
    """An earlier signal of the leader is not yet expanded: none of this one's intents may
    be sized before it (the sequence gate)."""
    return (
        conn.execute(
            select(signals.c.id).where(earlier_signal_open(signals, leader_id, pk)).limit(1)
        ).first()
        is not None
    )


def _blocked(
    conn: Connection, fids: Collection[int], pk: int, holding: tuple[str, ...]
) -> set[int]:
    """The followers among `fids` with an earlier intent not yet past the gate."""
    return set(
        conn.execute(
            select(intents.c.follower_id)
            .distinct()
            .where(
                intents.c.follower_id.in_(list(fids)),
                earlier_intent_unsent(intents, pk, holding=holding),
            )
        ).scalars()
    )


def _all_gated(conn: Connection, pk: int, holding: tuple[str, ...]) -> bool:
    """Every pending intent of the signal waits behind an earlier one of its follower: read
    without the follower locks, which a gated signal need not queue for (under load every
    arriving signal did, behind the sizing at the head). An earlier intent that moves on
    just after this read wakes the signal (`wake_next`), as it does after a locked read."""
    fids = set(
        conn.execute(
            select(intents.c.follower_id).where(
                intents.c.signal_pk == pk, intents.c.state == IntentState.PENDING.value
            )
        ).scalars()
    )
    return bool(fids) and _blocked(conn, fids, pk, holding) == fids


def size_pending(
    db: Database,
    holding: tuple[str, ...],
    pk: int,
    sizer: Callable[[SizingInput], SizingOutcome],
    leader_id: int,
    asset: str,
    by_position: bool = False,
) -> tuple[int, int]:
    """Size the signal's pending intents whose followers' earlier intents are past send.
    `by_position`: the order is sized from the venue's position (a close, a decrease in
    proportion): a following sharing it with its account's others moves only its share.

    Returns (sized, gated). The follower rows are locked (in id order) for the whole
    transaction, so two signals for one follower are sized one after the other and the
    exposure each sees includes the other's in-flight order. A signal whose intents are all
    gated is answered before the locks.
    """
    with db.tx() as conn:
        if _earlier_open(conn, pk, leader_id) or _all_gated(conn, pk, holding):
            # Nothing can be sized yet: answer without taking the follower locks.
            return 0, int(
                conn.execute(
                    select(func.count()).where(
                        intents.c.signal_pk == pk, intents.c.state == IntentState.PENDING.value
                    )
                ).scalar_one()
            )
        fids = (
            conn.execute(
                select(followers.c.id)
                .where(
                    followers.c.id.in_(
                        select(intents.c.follower_id).where(
                            intents.c.signal_pk == pk,
                            intents.c.state == IntentState.PENDING.value,
                        )
                    )
                )
                .order_by(followers.c.id)
                # FOR NO KEY UPDATE: excludes another sizing, a trip, a reset and a policy
                # change of these rows, not the foreign-key checks (FOR KEY SHARE) of the
                # intents a next signal inserts for them
                .with_for_update(key_share=True)
            )
            .scalars()
            .all()
        )
        if not fids:
            return 0, 0
        pending = conn.execute(
            select(intents.c.id, intents.c.follower_id, intents.c.side).where(
                intents.c.signal_pk == pk, intents.c.state == IntentState.PENDING.value
            )
        ).all()
        if _earlier_open(conn, pk, leader_id):  # again: one may have committed meanwhile
            return 0, len(pending)
        blocked = _blocked(conn, fids, pk, holding)
        legs: dict[int, list[tuple[Action, int]]] = defaultdict(list)
        for r in conn.execute(
            select(intents.c.follower_id, intents.c.action, intents.c.notional_usd_1e6)
            .where(
                intents.c.follower_id.in_(fids),
                intents.c.asset == asset,
                intents.c.state.not_in([s.value for s in INTENT_NOT_COUNTED]),
                intents.c.action != CANCEL_ACTION,  # no exposure of its own
            )
            .order_by(intents.c.follower_id, intents.c.seq, intents.c.id)
        ):
            legs[r.follower_id].append((Action(r.action), int(r.notional_usd_1e6 or 0)))
        raw = {r.id: r for r in conn.execute(follower_query().where(followers.c.id.in_(fids)))}
        # the accounts with limits: locked after the follower rows, their exposure read
        by_account = account_exposure.lock_and_read(conn, {r.account_id for r in raw.values()})
        sized: dict[IntentState, list[dict[str, Any]]] = {}
        for intent_id, fid, side in pending:
            if fid in blocked:
                continue
            share = None
            try:
                follower = follower_from_row(raw[fid])
                account = None
                if follower.account_id in by_account:
                    limits, held = by_account[follower.account_id]
                    account = AccountExposure(follower.account_id, fid, limits, held)
                    if by_position:  # only this following's part of the venue's position
                        share = account_exposure.share_of(held, (fid, asset, side))
                item = SizingInput(intent_id, follower, legs[fid], account)
                decision, price = sizer(item)
                if share == 0 and decision.accepted:
                    # the account's other followings hold this position, this one nothing
                    decision = Decision(f"no_position: no {side} {asset} of this following's")
            except TransientError:
                raise  # a dependency, not this follower: the whole step retries
            except Exception as exc:  # noqa: BLE001 - one follower's bad data is its own
                log.exception("intent %s: sizing failed", intent_id, extra={"intent_id": intent_id})
                sized.setdefault(IntentState.FAILED, []).append(
                    {"b_id": intent_id, "b_reason": f"internal: {type(exc).__name__}"}
                    | dict.fromkeys(SIZED_PARAMS)
                )
                continue
            new = IntentState.CREATED if decision.accepted else IntentState.REJECTED
            # A rejection after sizing keeps the sizes (by how much it missed); never
            # exposure: the legs above skip rejected intents (INTENT_NOT_COUNTED).
            kept = decision.sized
            sized.setdefault(new, []).append(
                {
                    "b_id": intent_id,
                    "b_reason": decision.reason,
                    "b_collateral": decision.collateral_usd_1e6 if kept else None,
                    "b_leverage": decision.leverage_x if kept else None,
                    "b_notional": decision.notional_usd_1e6 if kept else None,
                    "b_price": price if decision.accepted else None,
                    "b_feq": decision.equities[0] if decision.equities else None,
                    "b_leq": decision.equities[1] if decision.equities else None,
                    "b_share": share if decision.accepted else None,
                }
            )
        pause("size.before_commit")
        for new, rows_ in sized.items():
            cas_many(
                conn,
                IntentState.PENDING,
                new,
                rows_,
                reason=bindparam("b_reason"),
                collateral_usd_1e6=bindparam("b_collateral"),
                leverage_x=bindparam("b_leverage"),
                notional_usd_1e6=bindparam("b_notional"),
                acceptable_price_usd_1e6=bindparam("b_price"),
                follower_equity_usd_1e6=bindparam("b_feq"),
                leader_equity_usd_1e6=bindparam("b_leq"),
                share_1e18=bindparam("b_share"),
                sized_at=func.clock_timestamp(),
            )
        n = sum(len(r) for r in sized.values())
        return n, len(pending) - n
