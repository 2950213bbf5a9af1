"""Risk rules: inclusive limits that reject, never shrink (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.domain.risk import (
    PROFILES,
    LeaderOrder,
    Policy,
    acceptable_price,
    decide,
    project_exposure,
)
from core.domain.sizing import SizingRule
from core.domain.types import USD, Action, Side

STANDARD = PROFILES["standard"]
CANARY = PROFILES["canary"]
RATIO_1 = SizingRule("ratio", Decimal(1))
SEED_ORDER = LeaderOrder(Action.OPEN, "BTC", Side.LONG, 100 * USD, 1000)  # $100 x 1000x


def policy(**kw: object) -> Policy:
    base = {
        "max_leverage_x": 1000,
        "max_position_usd_1e6": 100_000 * USD,
        "assets": frozenset({"BTC", "ETH"}),
        "sizing": RATIO_1,
    }
    base.update(kw)
    return Policy(**base)  # type: ignore[arg-type]


def test_seed_order_exactly_at_the_position_limit_passes() -> None:
    d = decide(SEED_ORDER, policy(), STANDARD, exposure=0)
    assert d.accepted
    assert d.notional_usd_1e6 == 100_000 * USD


def test_seed_order_one_micro_usd_over_the_limit_is_rejected() -> None:
    d = decide(SEED_ORDER, policy(max_position_usd_1e6=100_000 * USD - 1), STANDARD, 0)
    assert d.reason == "max_position"


def test_leverage_at_cap_passes_and_cap_plus_one_is_rejected() -> None:
    assert decide(SEED_ORDER, policy(max_leverage_x=1000), STANDARD, 0).accepted
    order = LeaderOrder(Action.OPEN, "BTC", Side.LONG, 100 * USD, 1001)
    assert (
        decide(order, policy(max_leverage_x=1000, max_position_usd_1e6=10**15), STANDARD, 0).reason
        == "max_leverage"
    )


def test_exposure_in_flight_counts_toward_the_limit() -> None:
    p = policy(max_position_usd_1e6=150_000 * USD)
    assert decide(SEED_ORDER, p, STANDARD, exposure=50_000 * USD).accepted
    assert decide(SEED_ORDER, p, STANDARD, exposure=50_000 * USD + 1).reason == "max_position"


def test_canary_profile_caps_order_notional_leverage_and_assets() -> None:
    small = LeaderOrder(Action.OPEN, "BTC", Side.LONG, 5 * USD, 2)
    assert decide(small, policy(), CANARY, 0).accepted  # exactly 10 USD at 2x
    over = LeaderOrder(Action.OPEN, "BTC", Side.LONG, 5 * USD + 10_000, 2)
    assert decide(over, policy(), CANARY, 0).reason == "profile_max_order_notional"
    lev3 = LeaderOrder(Action.OPEN, "BTC", Side.LONG, 1 * USD, 3)
    assert decide(lev3, policy(), CANARY, 0).reason == "profile_max_leverage"
    sol = LeaderOrder(Action.OPEN, "SOL", Side.LONG, 1 * USD, 1)
    assert (
        decide(sol, policy(assets=frozenset({"SOL"})), CANARY, 0).reason
        == "profile_asset_not_allowed"
    )


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        ({"paused": True}, "paused"),
        ({"circuit_breaker": True}, "circuit_breaker"),
        ({"assets": frozenset({"ETH"})}, "asset_not_allowed"),
    ],
)
def test_follower_state_rejections_carry_their_reason(
    flags: dict[str, object], reason: str
) -> None:
    assert decide(SEED_ORDER, policy(**flags), STANDARD, 0).reason == reason


def test_close_without_position_is_rejected_and_with_one_closes_all() -> None:
    close = LeaderOrder(Action.CLOSE, "BTC", Side.LONG, 0, 1)
    assert decide(close, policy(), STANDARD, 0).reason == "no_position"
    assert decide(close, policy(), STANDARD, 7 * USD).notional_usd_1e6 == 7 * USD


def test_decrease_is_trimmed_to_the_held_notional() -> None:
    dec = LeaderOrder(Action.DECREASE, "BTC", Side.LONG, 100 * USD, 2)
    d = decide(dec, policy(), STANDARD, exposure=50 * USD)
    assert (d.collateral_usd_1e6, d.notional_usd_1e6) == (25 * USD, 50 * USD)


def test_exposure_projection_follows_open_decrease_close() -> None:
    legs = [(Action.OPEN, 10), (Action.INCREASE, 5), (Action.DECREASE, 3)]
    assert project_exposure(legs) == 12
    assert project_exposure([*legs, (Action.CLOSE, 0)]) == 0
    assert project_exposure([(Action.DECREASE, 5)]) == 0


def test_acceptable_price_moves_against_the_follower_by_slippage() -> None:
    assert acceptable_price(100_000 * USD, Side.LONG, Action.OPEN, 50) == 100_500 * USD
    assert acceptable_price(100_000 * USD, Side.SHORT, Action.OPEN, 50) == 99_500 * USD
    assert acceptable_price(100_000 * USD, Side.LONG, Action.CLOSE, 50) == 99_500 * USD
    assert acceptable_price(100_000 * USD, Side.SHORT, Action.CLOSE, 0) == 100_000 * USD


# The seed order ($100 x 1000x) against policies each of which rejects it at one rule:
# (policy overrides, profile, reason, figures kept (collateral, leverage, notional) or None).
SIZED = (100 * USD, 1000, 100_000 * USD)


@pytest.mark.parametrize(
    ("overrides", "profile", "reason", "figures"),
    [
        pytest.param(*case, id=case[2])
        for case in (
            ({"paused": True}, STANDARD, "paused", None),
            ({"circuit_breaker": True}, STANDARD, "circuit_breaker", None),
            ({"assets": frozenset({"ETH"})}, STANDARD, "asset_not_allowed", SIZED),
            ({"max_leverage_x": 999}, STANDARD, "max_leverage", SIZED),
            ({}, CANARY, "profile_max_leverage", SIZED),
            (
                {"sizing": SizingRule("ratio", Decimal("0.00001"))},
                STANDARD,
                "size_zero",
                (0, 1000, 0),
            ),
            ({"max_position_usd_1e6": 100_000 * USD - 1}, STANDARD, "max_position", SIZED),
        )
    ],
)
def test_a_rejection_after_sizing_keeps_the_figures_sizing_computed(
    overrides: dict[str, object],
    profile: object,
    reason: str,
    figures: tuple[int, int, int] | None,
) -> None:
    d = decide(SEED_ORDER, policy(**overrides), profile, 0)  # type: ignore[arg-type]
    assert d.reason == reason
    assert d.sized is (figures is not None)
    if figures is not None:
        assert (d.collateral_usd_1e6, d.leverage_x, d.notional_usd_1e6) == figures
    else:
        assert (d.collateral_usd_1e6, d.leverage_x, d.notional_usd_1e6) == (0, 0, 0)


def test_over_the_limit_by_how_much_is_the_kept_notional_against_the_limit() -> None:
    d = decide(SEED_ORDER, policy(max_position_usd_1e6=150_000 * USD), STANDARD, 60_000 * USD)
    assert d.reason == "max_position"
    assert 60_000 * USD + d.notional_usd_1e6 - 150_000 * USD == 10_000 * USD
