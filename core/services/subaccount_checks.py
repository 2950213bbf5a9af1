"""Before a nonce is taken: may each subaccount still act for its wallet? A follower whose
key is its wallet's GMX subaccount has a lifetime action budget (every create and cancel
counts one), an expiry and the wallet's authorisation, all read from the venue in one
batch at the head, with the head's block time (the venue checks block.timestamp). An
order the venue would refuse is rejected with the reason and its figure, alone — never
signed, never retried against that subaccount; the operator hears of it (log, and the
`copytrade_intents_ended_total{reason=~"subaccount_.*"}` alert)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from core.domain import subaccounts
from core.domain.rows import FollowerRow, ToSign
from core.domain.subaccounts import SubaccountTerms
from core.domain.venue import Call
from core.ports import Venue

log = logging.getLogger(__name__)

UNSUPPORTED = "subaccount_unsupported"


class StandingChain(Protocol):
    def calls(self, calls: Sequence[Call]) -> list[bytes]: ...
    def head_time(self) -> int: ...


def standings(
    pairs: Sequence[tuple[str, str]], venue: Venue, chain: StandingChain
) -> dict[tuple[str, str], SubaccountTerms] | None:
    """(wallet, subaccount) -> its standing, in one batch of reads; None: the venue has no
    subaccounts."""
    calls = {p: venue.subaccount_calls(*p) for p in pairs}
    if any(not c for c in calls.values()):
        return None
    flat = [c for p in pairs for c in calls[p]]
    results = chain.calls(flat) if flat else []
    out: dict[tuple[str, str], SubaccountTerms] = {}
    at = 0
    for p in pairs:
        n = len(calls[p])
        out[p] = venue.decode_subaccount(results[at : at + n])
        at += n
    return out


def refusals(
    todo: Sequence[ToSign],
    venue: Venue,
    chain: StandingChain,
    unmined: Callable[[Sequence[str]], dict[str, int]] = lambda _: {},
) -> dict[int, str]:
    """Intents (orders and cancels of requests alike: each is one action) whose subaccount
    the venue would refuse, counting the subaccount's orders signed and not yet mined
    (`unmined`: each uses an action once mined) and this batch's earlier ones."""
    mine = [t for t in todo if t.subaccount_of]
    if not mine:
        return {}
    pairs = sorted({(str(t.subaccount_of), t.signer_address) for t in mine})
    found = standings(pairs, venue, chain)
    if found is None:
        why = (
            f"{UNSUPPORTED}: the venue has none configured (GMX: subaccount_router in "
            "COPYTRADE_GMX_CONTRACTS); otherwise the follower's key must be its wallet's"
        )
        return {t.intent_id: why for t in mine}
    now = chain.head_time()
    pending = unmined(sorted({t.signer_address for t in mine}))
    used: dict[tuple[str, str], int] = {p: pending.get(p[1], 0) for p in pairs}
    refused: dict[int, str] = {}
    for t in mine:
        p = (str(t.subaccount_of), t.signer_address)
        # this batch's earlier actions of the subaccount count as used
        terms = replace(found[p], actions_used=found[p].actions_used + used.get(p, 0))
        reason = subaccounts.refusal(terms, now)
        if reason is None:
            used[p] = used.get(p, 0) + 1
            continue
        refused[t.intent_id] = f"{reason}: {subaccounts.detail(terms, reason, now)}"
        log.error(
            "intent %s rejected: follower %s's subaccount %s for wallet %s: %s (ask the "
            "wallet to run copytrade follower subaccount-setup %s)",
            t.intent_id,
            t.follower_id,
            t.signer_address,
            t.subaccount_of,
            refused[t.intent_id],
            t.follower_id,
            extra={"intent_id": t.intent_id},
        )
    return refused


def follower_standings(
    followers: Sequence[FollowerRow], venue: Venue, chain: StandingChain
) -> tuple[dict[int, SubaccountTerms], int]:
    """Each subaccount follower's standing (follower id -> terms) and the head's block time,
    in one batch; ({}, 0) when no follower trades through a subaccount or the venue has
    none."""
    mine = [f for f in followers if f.subaccount_of]
    if not mine:
        return {}, 0
    pairs = sorted({(str(f.subaccount_of), f.address) for f in mine})
    found = standings(pairs, venue, chain)
    if found is None:
        return {}, 0
    return {f.id: found[(str(f.subaccount_of), f.address)] for f in mine}, chain.head_time()


def running_low(
    followers: Sequence[FollowerRow],
    venue: Venue,
    chain: StandingChain,
    min_actions: int,
    min_s: int,
) -> dict[int, str]:
    """Each subaccount follower that is refused already or soon will be (follower id ->
    what): what its owner and the operator must hear before (or when) its copies stop."""
    found, now = follower_standings(followers, venue, chain)
    out = {}
    for fid, t in sorted(found.items()):
        refused = subaccounts.refusal(t, now)
        low = subaccounts.running_low(t, now, min_actions, min_s)
        if refused is not None:
            low = [f"refused: {refused} ({subaccounts.detail(t, refused, now)})"]
        if low:
            out[fid] = "; ".join(low)
    return out
