"""The subaccount check before a nonce, on in-memory ports: one batch of reads for every
subaccount of the batch, GMX's order of checks at the head's block time, the batch's own
earlier actions counted, a refusal per intent (the others go on), and a subaccount
follower on a venue without subaccounts refused with its reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.adapters.venue import RecorderVenue
from core.domain.rows import ToSign
from core.domain.subaccounts import SubaccountTerms
from core.domain.venue import Call
from core.services import subaccount_checks

NOW = 1_800_000_000
WALLET, OTHER_WALLET = "0x" + "a1" * 20, "0x" + "a2" * 20
SUB, OTHER_SUB, OWN = "0x" + "51" * 20, "0x" + "52" * 20, "0x" + "0e" * 20


@dataclass
class Venue:
    """The two subaccount methods of the Venue port: each (wallet, sub) read as one call."""

    terms: dict[tuple[str, str], SubaccountTerms]

    def subaccount_calls(self, account: str, subaccount: str) -> list[Call]:
        return [Call("datastore", f"{account}|{subaccount}".encode())]

    def decode_subaccount(self, results: Sequence[bytes]) -> SubaccountTerms:
        account, sub = results[0].decode().split("|")
        return self.terms[(account, sub)]


@dataclass
class Chain:
    batches: list[list[Call]] = field(default_factory=list)

    def calls(self, calls: Sequence[Call]) -> list[bytes]:
        self.batches.append(list(calls))
        return [c.data for c in calls]

    def head_time(self) -> int:
        return NOW


def intent(intent_id: int, signer: str, wallet: str | None) -> ToSign:
    return ToSign(
        intent_id, intent_id, "env:K", signer, "0x" + "00" * 32, "open", "ETH", "long",
        10_000_000, 2, 3_000_000_000, True, subaccount_of=wallet,
    )  # fmt: skip


def test_the_batch_s_earlier_actions_count_and_each_refusal_stays_with_its_intent() -> None:
    venue = Venue(
        {
            (WALLET, SUB): SubaccountTerms(True, 3, 5, NOW + 60),  # two actions left
            (OTHER_WALLET, OTHER_SUB): SubaccountTerms(False, 0, 5, NOW + 60),
        }
    )
    chain = Chain()
    todo = [
        intent(1, SUB, WALLET),
        intent(2, OWN, None),  # the wallet's own key: not a subaccount
        intent(3, SUB, WALLET),
        intent(4, OTHER_SUB, OTHER_WALLET),
        intent(5, SUB, WALLET),  # the third action of a subaccount with two left
    ]
    refused = subaccount_checks.refusals(todo, venue, chain)
    assert refused == {
        4: "subaccount_not_authorized: not on the wallet's subaccount list "
        "(revoked or never added)",
        5: "subaccount_exhausted: 5 of 5 actions used",
    }
    assert len(chain.batches) == 1  # one batch of reads for all of them
    assert len(chain.batches[0]) == 2  # each subaccount read once


def test_an_expired_subaccount_is_judged_at_the_head_s_block_time() -> None:
    venue = Venue({(WALLET, SUB): SubaccountTerms(True, 0, 5, NOW - 7)})
    refused = subaccount_checks.refusals([intent(1, SUB, WALLET)], venue, Chain())
    assert refused == {1: "subaccount_expired: expired 7 s ago"}
    at_expiry = Venue({(WALLET, SUB): SubaccountTerms(True, 0, 5, NOW)})
    assert subaccount_checks.refusals([intent(1, SUB, WALLET)], at_expiry, Chain()) == {}


def test_no_subaccount_follower_reads_nothing() -> None:
    chain = Chain()
    assert subaccount_checks.refusals([intent(1, OWN, None)], Venue({}), chain) == {}
    assert chain.batches == []


def test_a_subaccount_follower_on_a_venue_without_subaccounts_is_refused() -> None:
    refused = subaccount_checks.refusals(
        [intent(1, SUB, WALLET), intent(2, OWN, None)], RecorderVenue("0x" + "7e" * 20), Chain()
    )
    assert list(refused) == [1]
    assert refused[1].startswith("subaccount_unsupported: ")


def test_orders_signed_and_not_yet_mined_count_as_used() -> None:
    """Two actions left, one order of the subaccount signed and still unmined: the batch's
    first order takes the last action, the second is refused (it would revert on chain)."""
    venue = Venue({(WALLET, SUB): SubaccountTerms(True, 3, 5, NOW + 60)})
    asked: list[list[str]] = []

    def unmined(signers: Sequence[str]) -> dict[str, int]:
        asked.append(list(signers))
        return {SUB: 1}

    todo = [intent(1, SUB, WALLET), intent(2, SUB, WALLET), intent(3, OWN, None)]
    refused = subaccount_checks.refusals(todo, venue, Chain(), unmined)
    assert refused == {2: "subaccount_exhausted: 5 of 5 actions used"}
    assert asked == [[SUB]]  # only the subaccounts' keys are looked up
