"""Drift: the leader's position vs a follower's on chain vs what the follower's policy
allows. Pure: the caller reads both positions from the venue.

A copy-trading operator reads this every morning: a follower can drift from its leader
through rejections (policy, funds, stale signals), trims, rounding, or trades made outside
the system. The status says which case it is; the sizes say by how much.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.domain.sizing import EQUITY, RATIO, SizingRule

BPS = 10_000

OK = "ok"
FLAT = "flat"  # neither holds a position
MISSING = "missing"  # the leader holds one, the follower nothing
ORPHAN = "orphan"  # the follower holds one the leader does not
WRONG_SIDE = "wrong_side"  # opposite sides
OVER_LIMIT = "over_limit"  # above the policy's max position
DRIFT = "drift"  # the same side, off the policy's target by more than the tolerance
STATUSES = (OK, FLAT, MISSING, ORPHAN, WRONG_SIDE, OVER_LIMIT, DRIFT)


@dataclass(frozen=True)
class Held:
    """One side of a position in notional micro-USD (0 = flat)."""

    is_long: bool
    size_usd_1e6: int

    @property
    def signed(self) -> int:
        return self.size_usd_1e6 if self.is_long else -self.size_usd_1e6


@dataclass(frozen=True)
class Assessment:
    status: str
    target_usd_1e6: int | None  # what the policy asks for, when its rule is proportional
    off_by_usd_1e6: int | None  # follower - target (signed by the leader's side)


def target(rule: SizingRule, leader_usd_1e6: int, limit_usd_1e6: int) -> int | None:
    """The follower's position the policy asks for: proportional rules (ratio, equity)
    mirror the leader's notional, capped by the max position. Fixed rules size each order
    on its own, so a position has no target: None."""
    if rule.kind not in (RATIO, EQUITY):
        return None
    return min(int(Decimal(leader_usd_1e6) * rule.value), limit_usd_1e6)


def assess(
    leader: Held,
    follower: Held,
    rule: SizingRule,
    limit_usd_1e6: int,
    tolerance_bps: int = 100,
) -> Assessment:
    """Compare one asset's positions. `tolerance_bps` of the target (at least 1 USD) is
    allowed for the venue's rounding of each order down to whole cents."""
    lead, mine = leader.size_usd_1e6, follower.size_usd_1e6
    if lead == 0 and mine == 0:
        return Assessment(FLAT, 0, 0)
    if mine > limit_usd_1e6:
        return Assessment(OVER_LIMIT, target(rule, lead, limit_usd_1e6), None)
    if lead == 0:
        return Assessment(ORPHAN, 0, mine)
    want = target(rule, lead, limit_usd_1e6)
    if mine == 0:
        return Assessment(MISSING, want, None if want is None else -want)
    if leader.is_long != follower.is_long:
        return Assessment(WRONG_SIDE, want, None)
    if want is None:
        return Assessment(OK, None, None)
    off = mine - want
    allowed = max(want * tolerance_bps // BPS, 1_000_000)
    return Assessment(OK if abs(off) <= allowed else DRIFT, want, off)
