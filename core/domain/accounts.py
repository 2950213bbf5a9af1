"""Follower accounts: one wallet and one owner copying several leaders (one following each),
with limits across all of them. Pure: the exposure is read under the account's row lock by
the store and checked here, after the following's own limits (core/domain/risk.py).

An account's exposure is counted per (following, asset, side) — on GMX a long and a short of
one asset are two positions, and each following's orders move its own share — and summed:
`max_position_usd_1e6` bounds one asset (both sides, every following), `max_total_usd_1e6`
every asset. The opposite-sides rule says what happens when a following adds to one side of
an asset another following of the account holds the other side of: `hedge` keeps both (what
GMX allows: one position per side), `reject` rejects the later (`opposite_side`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

HEDGE = "hedge"
REJECT = "reject"
OPPOSITE_RULES = (HEDGE, REJECT)

Key = tuple[int, str, str]  # (following id, asset, side)


@dataclass(frozen=True)
class AccountLimits:
    max_position_usd_1e6: int | None = None
    max_total_usd_1e6: int | None = None
    assets: frozenset[str] | None = None
    opposite_sides: str = HEDGE

    @property
    def any(self) -> bool:
        return (
            self.max_position_usd_1e6 is not None
            or self.max_total_usd_1e6 is not None
            or self.assets is not None
            or self.opposite_sides != HEDGE
        )


@dataclass(frozen=True)
class AccountExposure:
    """What the account's followings hold (in flight, requested and held), for one order of
    `following_id`."""

    account_id: int
    following_id: int
    limits: AccountLimits
    held: Mapping[Key, int] = field(default_factory=dict)

    def others(self, asset: str | None = None, side: str | None = None) -> int:
        """The other followings' exposure (on `asset`, on `side`, when given)."""
        return sum(
            v
            for (fid, a, s), v in self.held.items()
            if fid != self.following_id and asset in (None, a) and side in (None, s)
        )

    def mine_elsewhere(self, asset: str) -> int:
        """This following's exposure on every other asset."""
        return sum(
            v for (fid, a, _), v in self.held.items() if fid == self.following_id and a != asset
        )


def check(
    account: AccountExposure, asset: str, side: str, exposure: int, notional: int
) -> str | None:
    """The account's reason to reject an order adding `notional` on `asset`/`side` for a
    following holding `exposure` there, or None. Checked after the following's own limits;
    inclusive like every limit."""
    lim = account.limits
    if lim.assets is not None and asset not in lim.assets:
        return "account_asset_not_allowed"
    if lim.opposite_sides == REJECT:
        other = "short" if side == "long" else "long"
        if account.others(asset, other) > 0:
            return f"opposite_side: another following of the account holds {asset} {other}"
    cap = lim.max_position_usd_1e6
    if cap is not None and exposure + account.others(asset) + notional > cap:
        return "account_max_position"
    if lim.max_total_usd_1e6 is not None:
        total = exposure + account.mine_elsewhere(asset) + account.others() + notional
        if total > lim.max_total_usd_1e6:
            return "account_max_total"
    return None
