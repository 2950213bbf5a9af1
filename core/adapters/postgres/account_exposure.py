"""An account's exposure across its followings, read under the account's row lock inside the
sizing transaction (core/adapters/postgres/sizing.py): the follower rows are
locked first (in id order), then their accounts (in id order), so two leaders' signals for
one account are sized one after the other and the later sees the earlier's order. Only the
exposure of accounts with a limit or with several followings is read (those share venue
positions: a close moves its following's share, `share_of`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, select

from core.adapters.postgres.tables import accounts, followers, intents
from core.domain.accounts import AccountLimits, Key
from core.domain.risk import project_exposure
from core.domain.states import INTENT_NOT_COUNTED
from core.domain.types import CANCEL_ACTION, Action


def limits_of(r: Any) -> AccountLimits:
    """An `accounts` row's limits."""
    assets = None if r.assets is None else frozenset(r.assets)
    return AccountLimits(r.max_position_usd_1e6, r.max_total_usd_1e6, assets, r.opposite_sides)


def lock_and_read(
    conn: Connection, account_ids: Collection[int]
) -> dict[int, tuple[AccountLimits, dict[Key, int]]]:
    """account id -> (its limits, each (following, asset, side)'s exposure), for the accounts
    among `account_ids` with a limit or several followings; those rows are locked FOR UPDATE
    until commit (and their limits read again under the lock). Which accounts those are is
    read first without a lock: a limit set meanwhile binds from the next sizing on."""
    if not account_ids:
        return {}
    ids = sorted(account_ids)
    every: dict[int, int] = {
        int(r.id): int(r.account_id)
        for r in conn.execute(
            select(followers.c.id, followers.c.account_id).where(followers.c.account_id.in_(ids))
        )
    }
    followings = Counter(every.values())
    wanted = [
        r.id
        for r in conn.execute(select(accounts).where(accounts.c.id.in_(ids)))
        if limits_of(r).any or followings[r.id] > 1
    ]
    if not wanted:
        return {}  # one following each and no limit: no lock, no read
    rows = conn.execute(
        select(accounts).where(accounts.c.id.in_(wanted)).order_by(accounts.c.id).with_for_update()
    ).all()
    limited = {r.id: limits_of(r) for r in rows}
    members = {fid: a for fid, a in every.items() if a in limited}
    legs: dict[Key, list[tuple[Action, int]]] = defaultdict(list)
    for r in conn.execute(
        select(
            intents.c.follower_id,
            intents.c.asset,
            intents.c.side,
            intents.c.action,
            intents.c.notional_usd_1e6,
        )
        .where(
            intents.c.follower_id.in_(list(members)),
            intents.c.state.not_in([s.value for s in INTENT_NOT_COUNTED]),
            intents.c.action != CANCEL_ACTION,
        )
        .order_by(intents.c.follower_id, intents.c.seq, intents.c.id)
    ):
        key = (r.follower_id, r.asset, r.side)
        legs[key].append((Action(r.action), int(r.notional_usd_1e6 or 0)))
    # each (following, asset, side) projected as a following's exposure always is
    held = {k: v for k, leg in legs.items() if (v := project_exposure(leg)) > 0}
    out: dict[int, tuple[AccountLimits, dict[Key, int]]] = {
        a: (lim, {}) for a, lim in limited.items()
    }
    for key, value in held.items():
        out[members[key[0]]][1][key] = value
    return out


def share_of(held: dict[Key, int], key: Key) -> int | None:
    """The following's share (18 decimals) of the venue position its account's followings
    hold together on key's asset and side; None when no other following holds it (this one
    alone: all of it); 0 when only others do (this following has none of it to move)."""
    fid, asset, side = key
    mine = held.get(key, 0)
    others = sum(v for (f, a, s), v in held.items() if f != fid and a == asset and s == side)
    if others <= 0:
        return None
    return 0 if mine <= 0 else mine * 10**18 // (mine + others)
