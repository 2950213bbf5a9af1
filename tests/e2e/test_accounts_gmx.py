"""A follower account copying two leaders on the local GMX venue, real workers: both
followings' longs of one asset are one venue position, and one leader's close moves only
its following's share (size and collateral) — the other's stays; a short beside the long is
a second position (the account's `hedge` rule, what GMX allows), closed on its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.domain.types import USD
from tests.support.gmx_followers import Rig, gmx_rig


@pytest.fixture(scope="module")
def rig(stack: Any) -> Iterator[Rig]:
    with gmx_rig(stack, "accounts", 29) as r:
        yield r


def two_followings(rig: Rig) -> tuple[str, str, int, int, str]:
    a, b = rig.flow.leader(), rig.flow.leader()
    fa, wallet = rig.flow.follower(a, sizing="ratio:1", assets="ETH")
    f = rig.flow.s.registry.follower(fa)
    fb, _ = rig.flow.follower(
        b, sizing="ratio:1", assets="ETH", signer=(f.signer_ref, f.address), account_id=f.account_id
    )
    return a, b, fa, fb, wallet


def close(rig: Rig, leader: str, side: str = "long") -> dict[int, dict[str, Any]]:
    body = rig.flow.payload(
        leader, action="close", asset="ETH", side=side, collateral_usd="0", leverage=1,
        price_usd="3000",
    )  # fmt: skip
    return rig.done(body)


def test_one_leaders_close_moves_only_its_followings_share(rig: Rig) -> None:
    a, b, fa, fb, wallet = two_followings(rig)
    assert rig.open_eth(a, "60")[fa]["state"] == "confirmed"  # 180 USD
    assert rig.open_eth(b, "100")[fb]["state"] == "confirmed"  # 300 USD
    both = rig.eth(wallet)
    assert (both.size_usd_1e6, both.collateral_usd_1e6) == (480 * USD, 160 * USD)

    closed = close(rig, a)[fa]
    assert closed["state"] == "confirmed", closed
    left = rig.eth(wallet)
    assert (left.is_long, left.size_usd_1e6, left.collateral_usd_1e6) == (
        True,
        300 * USD,
        100 * USD,
    )

    assert close(rig, b)[fb]["state"] == "confirmed"  # now alone: the whole position
    assert rig.eth(wallet).size_usd_1e6 == 0


def test_a_short_beside_the_long_is_its_own_position(rig: Rig) -> None:
    a, b, fa, fb, wallet = two_followings(rig)
    assert rig.open_eth(a, "60")[fa]["state"] == "confirmed"
    short = rig.open_eth(b, "50", side="short")[fb]
    assert short["state"] == "confirmed", short  # hedge, the default: GMX keeps both
    assert close(rig, b, side="short")[fb]["state"] == "confirmed"
    long_left = rig.eth(wallet)
    assert (long_left.is_long, long_left.size_usd_1e6) == (True, 180 * USD)


def test_a_close_of_a_side_this_following_never_held_leaves_the_siblings_position(
    rig: Rig,
) -> None:
    a, b, fa, fb, wallet = two_followings(rig)
    assert rig.open_eth(a, "50", side="short")[fa]["state"] == "confirmed"
    assert rig.open_eth(b, "100")[fb]["state"] == "confirmed"  # the wallet's long: fb's
    wrong = close(rig, a, side="long")[fa]  # fa holds ETH, but short
    assert wrong["state"] == "rejected"
    assert wrong["reason"].startswith("no_position")
    assert wrong["nonce"] is None
    assert rig.eth(wallet).size_usd_1e6 == 300 * USD

    # a decrease by collateral moves what it says, not a share of the shared position
    assert rig.open_eth(a, "60")[fa]["state"] == "confirmed"  # fa's long: 180 of 480
    body = rig.flow.payload(
        a, action="decrease", asset="ETH", collateral_usd="20", leverage=3, price_usd="3000"
    )
    assert rig.done(body)[fa]["state"] == "confirmed"
    assert rig.eth(wallet).size_usd_1e6 == 420 * USD  # 480 - 60
