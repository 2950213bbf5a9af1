"""A GMX subaccount's standing decided as GMX decides it (SubaccountUtils: authorised, then
the expiry — unset is expired — then the lifetime budget), with GMX's own DataStore keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.adapters.gmx import subaccounts as keys
from core.domain.subaccounts import (
    EXHAUSTED,
    EXPIRED,
    NOT_AUTHORIZED,
    VENUE_ERRORS,
    SubaccountTerms,
    detail,
    refusal,
    running_low,
)

NOW = 1_800_000_000
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("terms", "want"),
    [
        (SubaccountTerms(True, 0, 5, NOW + 60), None),
        (SubaccountTerms(True, 4, 5, NOW + 60), None),  # the last action of the budget
        (SubaccountTerms(True, 5, 5, NOW + 60), EXHAUSTED),
        (SubaccountTerms(True, 0, 0, NOW + 60), EXHAUSTED),  # no budget set: none allowed
        (SubaccountTerms(True, 0, 5, NOW), None),  # expiresAt itself still allowed
        (SubaccountTerms(True, 0, 5, NOW - 1), EXPIRED),
        (SubaccountTerms(True, 0, 5, 0), EXPIRED),  # never dated
        (SubaccountTerms(True, 5, 5, NOW - 1), EXPIRED),  # the expiry is checked first
        (SubaccountTerms(False, 0, 5, NOW + 60), NOT_AUTHORIZED),
        (SubaccountTerms(False, 9, 5, 0), NOT_AUTHORIZED),  # and authorisation before both
    ],
)
def test_refusal_in_gmx_s_order_of_checks(terms: SubaccountTerms, want: str | None) -> None:
    assert refusal(terms, NOW) == want


def test_two_actions_need_two_left() -> None:
    assert refusal(SubaccountTerms(True, 3, 5, NOW + 60), NOW, actions=2) is None
    assert refusal(SubaccountTerms(True, 4, 5, NOW + 60), NOW, actions=2) == EXHAUSTED


def test_the_reason_carries_its_figure() -> None:
    assert detail(SubaccountTerms(True, 5, 5, NOW), EXHAUSTED, NOW) == "5 of 5 actions used"
    assert detail(SubaccountTerms(True, 0, 5, NOW - 30), EXPIRED, NOW) == "expired 30 s ago"
    assert detail(SubaccountTerms(True, 0, 5, 0), EXPIRED, NOW) == "expiry never set"


def test_running_low_names_what_runs_out() -> None:
    t = SubaccountTerms(True, 8, 10, NOW + 3_000)
    assert running_low(t, NOW, min_actions=2, min_s=3_600) == [
        "2 action(s) left of 10",
        "expires in 3000 s",
    ]
    assert running_low(SubaccountTerms(True, 0, 10, NOW + 86_400), NOW, 2, 3_600) == []


def test_the_keys_are_gmx_s() -> None:
    """Values from keccak256(abi.encode("NAME")) as Keys.sol builds them (GMX v2.2)."""
    order_action = "2a0791687fd34f2095c484a9fa4e25057d3ef79a97fcd8c61436047a7bdf4cbe"
    assert keys.ORDER_ACTION.hex() == order_action
    assert keys.codec.key_of("SUBACCOUNT_LIST").hex() == (
        "e211c7349be3d015791fba0c45875e1c46f2efc266c7f2b44dce8856fb0b3920"
    )
    assert keys.codec.key_of("MAX_ALLOWED_SUBACCOUNT_ACTION_COUNT").hex() == (
        "de6d7ba6907cdeb6383a9c6eb5584debbfcb17b3058bc5d901a08daa9a56cf13"
    )


def test_the_venue_errors_mapped_are_gmx_s_own() -> None:
    sdk = json.loads((ROOT / "contracts" / "gmx" / "sdk.json").read_text())["abis"]
    names = {e["name"] for e in sdk["CustomErrors"] if e["type"] == "error"}
    assert set(VENUE_ERRORS) <= names
