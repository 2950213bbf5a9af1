"""Risk rules: limits reject, never shrink, and are inclusive (at the limit passes).

`decide` is the one place a follower's order is sized and checked; it returns either a
sized order or a machine-readable rejection reason. Pure: the caller supplies the exposure
(in-flight and dry-run intents included) read under the follower's lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from core.domain.sizing import (
    VENUE_MIN_NOTIONAL_USD_1E6,
    SizingRule,
    follower_collateral,
    round_down,
)
from core.domain.types import USD, Action, Side, UsdE6

BPS = 10_000


@dataclass(frozen=True)
class Profile:
    """Caps laid over every policy. `None` means no cap."""

    name: str
    max_order_notional_usd_1e6: int | None
    max_leverage_x: int | None
    assets: frozenset[str] | None


PROFILES = {
    "canary": Profile("canary", 10 * USD, 2, frozenset({"BTC", "ETH"})),
    "standard": Profile("standard", None, None, None),
}


@dataclass(frozen=True)
class Policy:
    max_leverage_x: int
    max_position_usd_1e6: int
    assets: frozenset[str]
    sizing: SizingRule
    max_slippage_bps: int = 50
    paused: bool = False
    circuit_breaker: bool = False


@dataclass(frozen=True)
class LeaderOrder:
    action: Action
    asset: str
    side: Side
    collateral_usd_1e6: int
    leverage_x: int
    price_usd_1e6: int | None = None  # the reference price (fixed-size sizing needs it)


@dataclass(frozen=True)
class Decision:
    """`reason` is None when the order passes; then the sizes are set."""

    reason: str | None
    collateral_usd_1e6: UsdE6 = UsdE6(0)
    leverage_x: int = 0
    notional_usd_1e6: UsdE6 = UsdE6(0)

    @property
    def accepted(self) -> bool:
        return self.reason is None


def project_exposure(legs: Iterable[tuple[Action, int]]) -> UsdE6:
    """Notional held after applying the follower's counted legs in sequence order."""
    held = 0
    for action, notional in legs:
        if action.adds_exposure:
            held += notional
        elif action is Action.DECREASE:
            held = max(0, held - notional)
        else:
            held = 0
    return UsdE6(held)


def decide(order: LeaderOrder, policy: Policy, profile: Profile, exposure: int) -> Decision:
    """Size the follower's order and check it against policy and profile."""
    if policy.paused:
        return Decision("paused")
    if policy.circuit_breaker:
        return Decision("circuit_breaker")
    if order.action is Action.CLOSE:
        if exposure <= 0:
            return Decision("no_position")
        return Decision(None, UsdE6(0), order.leverage_x, UsdE6(exposure))
    collateral = follower_collateral(
        policy.sizing, order.collateral_usd_1e6, order.leverage_x, order.price_usd_1e6
    )
    if order.action is Action.DECREASE:
        # Never reduce past what is held: trim to the held notional (docs/risk.md).
        collateral = min(collateral, round_down(exposure // order.leverage_x))
        if collateral <= 0:
            return Decision("no_position")
        return Decision(None, collateral, order.leverage_x, UsdE6(collateral * order.leverage_x))
    if order.asset not in policy.assets:
        return Decision("asset_not_allowed")
    if profile.assets is not None and order.asset not in profile.assets:
        return Decision("profile_asset_not_allowed")
    if order.leverage_x > policy.max_leverage_x:
        return Decision("max_leverage")
    if profile.max_leverage_x is not None and order.leverage_x > profile.max_leverage_x:
        return Decision("profile_max_leverage")
    if collateral <= 0:
        return Decision("size_zero")
    notional = collateral * order.leverage_x
    if notional < VENUE_MIN_NOTIONAL_USD_1E6:
        return Decision("below_venue_minimum")
    cap = profile.max_order_notional_usd_1e6
    if cap is not None and notional > cap:
        return Decision("profile_max_order_notional")
    if exposure + notional > policy.max_position_usd_1e6:
        return Decision("max_position")
    return Decision(None, collateral, order.leverage_x, UsdE6(notional))


def acceptable_price(price_usd_1e6: int, side: Side, action: Action, slippage_bps: int) -> int:
    """The worst price the follower accepts: above the reference when buying, below when
    selling (opening a long or closing a short buys)."""
    buying = (side is Side.LONG) == action.adds_exposure
    if buying:
        value = Decimal(price_usd_1e6) * (BPS + slippage_bps) / BPS
        return int(value.to_integral_value(ROUND_FLOOR))
    value = Decimal(price_usd_1e6) * (BPS - slippage_bps) / BPS
    return int(value.to_integral_value(ROUND_CEILING))
