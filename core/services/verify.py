"""`copytrade verify`: check the live data against the chain.

- every nonce we assigned is consumed on chain by our transaction or our no-op, or is
  still in flight; per signer the assigned nonces have no gap and the chain is not ahead
  of what we wrote;
- per idempotency key at most one order on chain (the venue's client order id), and every
  on-chain order from our signers maps to one of our intents;
- every signal is terminal or younger than its max age.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from core.ports import AuditReads, ChainReads, Venue

IN_FLIGHT = {"signed", "sent", "held", "cancelling", "mined", "executed", "frozen"}
CONSUMED = {"confirmed", "reverted", "cancelled", "venue_cancelled"}


@dataclass
class Report:
    figures: dict[str, int] = field(default_factory=dict)
    breaches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaches

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "figures": self.figures, "breaches": self.breaches}


def verify(q: AuditReads, chain: ChainReads, venue: Venue, max_age_s: float) -> Report:
    r = Report()
    assigned = q.assigned()
    by_signer: dict[str, list[int]] = defaultdict(list)
    for a in assigned:
        by_signer[a.signer].append(a.nonce)
    next_nonce = q.signers()
    outside = q.used_outside()
    r.figures["nonces_used_outside"] = len(outside)
    r.figures["signers"] = len(next_nonce)
    r.figures["nonces_assigned"] = len(assigned)
    for signer, nonces in by_signer.items():
        dupes = [n for n, c in Counter(nonces).items() if c > 1]
        if dupes:
            r.breaches.append(f"{signer}: nonce(s) {dupes} assigned to more than one intent")
        expected = set(range(min(nonces), next_nonce.get(signer, max(nonces) + 1)))
        skipped = sorted(expected - set(nonces) - {n for a, n in outside if a == signer})
        if skipped:
            r.breaches.append(f"{signer}: nonce gap, never assigned: {skipped[:10]}")
        on_chain = chain.nonce(signer, "latest")
        if on_chain > next_nonce.get(signer, 0):
            r.breaches.append(
                f"{signer}: chain nonce {on_chain} ahead of ours "
                f"{next_nonce.get(signer)} (used outside the system)"
            )
    states = Counter(a.state for a in assigned)
    r.figures["nonces_consumed"] = sum(states[s] for s in CONSUMED)
    r.figures["nonces_in_flight"] = sum(states[s] for s in IN_FLIGHT)
    for a in assigned:
        if a.state in CONSUMED and a.nonce >= chain.nonce(a.signer, "latest"):
            r.breaches.append(
                f"intent {a.intent_id}: {a.state} but nonce {a.nonce} not used on chain"
            )

    keys = q.keys()
    ours = {s.lower() for s in next_nonce}
    placed = [
        (lg, got)
        for lg in chain.logs([venue.orders_filter()], 0, chain.block_number())
        if (got := venue.order_placed(lg)) is not None
    ]
    per_key = Counter(key for _, (_, key) in placed)
    r.figures["orders_on_chain"] = len(placed)
    for key, count in per_key.items():
        if count > 1 and key in keys:
            r.breaches.append(
                f"client order id {key}: {count} orders on chain (intent {keys[key][0]})"
            )
    for lg, (trader, key) in placed:
        if trader.lower() in ours and key not in keys:
            r.breaches.append(f"order {lg.tx_hash} from our signer {trader} maps to no intent")
    overdue = q.overdue_signals(max_age_s)
    r.figures["signals_overdue"] = len(overdue)
    for sid, state in overdue[:20]:
        r.breaches.append(f"signal {sid} still {state} past its max age")
    return r
