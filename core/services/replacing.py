"""A new attempt at an intent's nonce — a replacement (same calldata, higher fees), or the
no-op cancel — claimed by compare-and-set on its attempt number and written ahead with its
signed bytes before it is broadcast. Also holding at the fee ceiling."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.domain import attempts
from core.domain.fees import Fees
from core.domain.rows import Newest
from core.domain.states import IntentState
from core.faults import pause
from core.ports import AttemptStore, OrderRoute, SignerSource
from core.services.sending import Sender

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    chain_id: int
    route: OrderRoute  # where an order's calldata goes and the wei it carries (the venue)


class Replacer:
    def __init__(
        self, store: AttemptStore, sender: Sender, signers: SignerSource, target: Target
    ) -> None:
        self.store = store
        self.sender = sender
        self.signers = signers
        self.target = target

    def replace(
        self,
        n: Newest,
        kind: str,
        fees: Fees,
        new_state: IntentState | None,
        reason: str | None = None,
    ) -> bool:
        """A new attempt of `kind` (order | cancel) at `n`'s nonce; False when another
        scanner claimed this round. Written ahead even when the window then refuses."""
        signer = self.signers(n.signer_ref)
        t = self.target
        spec = attempts.attempt(
            kind,
            t.chain_id,
            n.nonce,
            fees,
            t.route.order_to(n.calldata) if kind == "order" else "",  # a no-op goes to itself
            n.calldata,
            n.gas_limit,
            signer.address,
            t.route.order_value(n.calldata) if kind == "order" else 0,
        )
        signed = signer.sign_transaction(spec.as_dict())
        attempt_id = self.store.claim(
            n, kind, signed.tx_hash, signed.raw, fees, spec.gas, new_state, reason
        )
        if attempt_id is None:
            return False  # another scanner claimed this round
        pause("replace.after_claim")
        label = "cancel" if kind == "cancel" else "replacement"
        if self.sender.attempts(label, self.store, [(attempt_id, signed.raw)]) is None:
            log.warning(
                "intent %s: %s attempt written, not sent: the broadcast window refused",
                n.intent_id,
                kind,
                extra={"intent_id": n.intent_id},
            )
        return True

    def hold(self, n: Newest) -> bool:
        """sent -> held: the next replacement would pass the fee ceiling."""
        if self.store.claim_state(n, IntentState.HELD):
            log.warning("intent %s held: next replacement passes the fee ceiling", n.intent_id)
            return True
        return False

    def rebroadcast(self, n: Newest) -> int:
        """Send an attempt's written-ahead bytes again (same hash)."""
        sent = self.sender.attempts("rebroadcast", self.store, [(n.attempt_id, n.raw)])
        return int(sent is not None and sent.outcomes[0].accepted)
