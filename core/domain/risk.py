"""Risk rules: limits reject, never shrink, and are inclusive (at the limit passes).

`decide` is the one place a follower's order is sized and checked; it returns either a
sized order or a machine-readable rejection reason. Pure: the caller supplies the exposure
(in-flight and dry-run intents included) read under the follower's lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from core.domain import accounts
from core.domain.accounts import AccountExposure
from core.domain.leader_fills import proportional
from core.domain.sizing import (
    VENUE_MIN_NOTIONAL_USD_1E6,
    SizingRule,
    follower_collateral,
    round_down,
)
from core.domain.types import USD, Action, Side, UsdE6
from core.domain.venue import VenueTerms

BPS = 10_000


@dataclass(frozen=True)
class Profile:
    """Caps laid over every policy. `None` means no cap."""

    name: str
    max_order_notional_usd_1e6: int | None
    max_leverage_x: int | None
    assets: frozenset[str] | None


# A venue without terms to read (the simple router): 1 USD of notional per order at least.
FIXED_TERMS = VenueTerms(min_order_usd_1e6=VENUE_MIN_NOTIONAL_USD_1E6)

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
    # the loss guard (core/domain/equity.py): None is no limit
    max_drawdown_bps: int | None = None
    max_daily_loss_usd_1e6: int | None = None
    close_on_stop: bool = False  # pausing or removing the follower closes its positions


@dataclass(frozen=True)
class LeaderOrder:
    action: Action
    asset: str
    side: Side
    collateral_usd_1e6: int
    leverage_x: int
    price_usd_1e6: int | None = None  # the reference price (fixed-size sizing needs it)
    fraction_1e18: int | None = None  # a decrease in proportion of the position held
    # The operator's close (`follower close-all`, close on pause): it takes risk away, so
    # the follower's pause and breaker do not hold it, and the venue's position (read before
    # signing) is what it closes, whatever our rows say.
    forced: bool = False


@dataclass(frozen=True)
class Decision:
    """`reason` is None when the order passes; then the sizes are set. A rejection decided
    after sizing keeps the sizes too (`sized`): the order it would have been, so an operator
    sees by how much it missed a limit. Such sizes are never exposure (the intent is
    `rejected`, which no exposure query counts: states.INTENT_NOT_COUNTED)."""

    reason: str | None
    collateral_usd_1e6: UsdE6 = UsdE6(0)
    leverage_x: int = 0  # 0: not sized (a sized order has leverage >= 1)
    notional_usd_1e6: UsdE6 = UsdE6(0)
    # equity-ratio: the (follower, leader) equities the order was sized from
    equities: tuple[int, int] | None = None

    @property
    def accepted(self) -> bool:
        return self.reason is None

    @property
    def sized(self) -> bool:
        """The sizes were computed (an accepted order, or one rejected after sizing)."""
        return self.leverage_x > 0


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


def decide(
    order: LeaderOrder,
    policy: Policy,
    profile: Profile,
    exposure: int,
    terms: VenueTerms = FIXED_TERMS,
    equities: tuple[int, int] | None = None,
    account: AccountExposure | None = None,
) -> Decision:
    """Size the follower's order and check it against policy, profile and the venue's
    minimums (`terms`), then its account's limits across its followings (`account`, read
    under the account's lock; core/domain/accounts.py). `equities`: the (follower, leader)
    equities an `equity-ratio` rule sizes from."""
    if order.forced:
        if order.action is not Action.CLOSE:
            return Decision("bad_forced_order")
        return Decision(None, UsdE6(0), order.leverage_x, UsdE6(max(0, exposure)))
    if policy.paused:
        return Decision("paused")
    if policy.circuit_breaker:
        return Decision("circuit_breaker")
    if order.action is Action.CLOSE:
        if exposure <= 0:
            return Decision("no_position")
        return Decision(None, UsdE6(0), order.leverage_x, UsdE6(exposure))
    if order.action is Action.DECREASE and order.fraction_1e18 is not None:
        # In proportion: the same fraction of what the follower holds, rounded down to the
        # venue's step (a venue that decreases by size takes it from its own position read
        # before signing: docs/risk.md).
        if exposure <= 0:
            return Decision("no_position")
        share = round_down(proportional(exposure, order.fraction_1e18))
        collateral = round_down(share // order.leverage_x)
        if collateral <= 0:
            return Decision("size_zero")
        return Decision(None, collateral, order.leverage_x, UsdE6(collateral * order.leverage_x))
    collateral = follower_collateral(
        policy.sizing, order.collateral_usd_1e6, order.leverage_x, order.price_usd_1e6, equities
    )
    if order.action is Action.DECREASE:
        # Never reduce past what is held: trim to the held notional (docs/risk.md).
        collateral = min(collateral, round_down(exposure // order.leverage_x))
        if collateral <= 0:
            return Decision("no_position", equities=equities)
        sized = UsdE6(collateral * order.leverage_x)
        return Decision(None, collateral, order.leverage_x, sized, equities)
    notional = collateral * order.leverage_x

    def rejected(reason: str) -> Decision:
        return Decision(reason, collateral, order.leverage_x, UsdE6(notional), equities)

    if order.asset not in policy.assets:
        return rejected("asset_not_allowed")
    if profile.assets is not None and order.asset not in profile.assets:
        return rejected("profile_asset_not_allowed")
    if order.leverage_x > policy.max_leverage_x:
        return rejected("max_leverage")
    if profile.max_leverage_x is not None and order.leverage_x > profile.max_leverage_x:
        return rejected("profile_max_leverage")
    if collateral <= 0:
        return rejected("size_zero")
    short = below_minimum(terms, exposure, collateral, notional)
    if short is not None:
        return rejected(short)
    cap = profile.max_order_notional_usd_1e6
    if cap is not None and notional > cap:
        return rejected("profile_max_order_notional")
    if exposure + notional > policy.max_position_usd_1e6:
        return rejected("max_position")
    if account is not None:
        why = accounts.check(account, order.asset, order.side.value, exposure, notional)
        if why is not None:
            return rejected(why)
    return Decision(None, collateral, order.leverage_x, UsdE6(notional), equities)


def _usd(v: int) -> str:
    return f"{Decimal(v) / USD:f}"


def below_minimum(terms: VenueTerms, exposure: int, collateral: int, notional: int) -> str | None:
    """`below_venue_minimum: <what> <figure> < <minimum> USD` for an order that adds
    exposure the venue would refuse (or cancel): an order under its order minimum, a
    position it leaves under the venue's smallest, or a new position's collateral under
    the venue's smallest; None when it passes."""
    if notional < terms.min_order_usd_1e6:
        what, got, least = "notional", notional, terms.min_order_usd_1e6
    elif exposure + notional < terms.min_position_usd_1e6:
        what, got, least = "position", exposure + notional, terms.min_position_usd_1e6
    elif exposure == 0 and collateral < terms.min_collateral_usd_1e6:
        what, got, least = "collateral", collateral, terms.min_collateral_usd_1e6
    else:
        return None
    return f"below_venue_minimum: {what} {_usd(got)} < {_usd(least)} USD"


def acceptable_price(price_usd_1e6: int, side: Side, action: Action, slippage_bps: int) -> int:
    """The worst price the follower accepts: above the reference when buying, below when
    selling (opening a long or closing a short buys)."""
    buying = (side is Side.LONG) == action.adds_exposure
    if buying:
        value = Decimal(price_usd_1e6) * (BPS + slippage_bps) / BPS
        return int(value.to_integral_value(ROUND_FLOOR))
    value = Decimal(price_usd_1e6) * (BPS - slippage_bps) / BPS
    return int(value.to_integral_value(ROUND_CEILING))
