"""Nonce sync: our nonces consumed on chain by someone else's transaction, and the re-sign
of those intents at the signer's next free nonce (never a rewind).

A first look at the latest counts picks the candidates; each is then decided from one
endpoint at one pinned block (core/adapters/nonce_audit.py): the transaction that took the
nonce is found and its hash is none of ours, it is COPYTRADE_CONFIRMATIONS blocks deep, and
the previous scan saw the same transaction in the same block. A nonce consumed by a
transaction that cannot be found holds the intent as it is and raises the `nonce_alarm`;
it is never re-signed on a guess."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from core.domain import attempts
from core.domain import fees as feemath
from core.domain.chain import OUTSIDE, UNKNOWN, NonceAudit
from core.domain.errors import UnsafeToSend
from core.domain.fees import Fees
from core.domain.mode import NONCE_ALARM
from core.domain.rows import Newest
from core.domain.states import IntentState
from core.faults import pause
from core.ports import MaintenanceChain, NonceAuditor, OrderRoute, ResignStore, SignerSource
from core.services.mode import ModeService
from core.services.sending import Sender, who

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncConfig:
    chain_id: int
    fee_ceiling_wei: int
    confirmations: int
    route: OrderRoute  # where an order's calldata goes and the wei it carries (the venue)


class NonceSync:
    def __init__(
        self,
        store: ResignStore,
        chain: MaintenanceChain,
        mode: ModeService,
        sender: Sender,
        signers: SignerSource,
        audit_nonce: NonceAuditor,
        market: Callable[[], Fees],
        cfg: SyncConfig,
    ) -> None:
        self.store = store
        self.chain = chain
        self.mode = mode
        self.sender = sender
        self.signers = signers
        self.audit_nonce = audit_nonce
        self.market = market
        self.cfg = cfg

    def reconcile(self) -> int:
        """One round; returns how many intents were re-signed."""
        todo = [
            n
            for n in self.store.newest((IntentState.SIGNED, IntentState.SENT, IntentState.HELD))
            if n.kind == "order"
        ]
        if not todo:
            return 0
        latest = self.chain.nonces(sorted({n.signer_address for n in todo}), "latest")
        pause("nonces.after_count")
        used = [n for n in todo if n.nonce < latest.get(n.signer_address, 0)]
        if not used:
            return 0
        # Ours first, in one batched read: a receipt of one of the intent's own hashes means
        # our transaction took the nonce (the watcher records it). Only the rest are audited
        # one by one — after a fan-out, a thousand bisecting audits stalled the watch queue.
        ours = self.store.hashes_of([n.intent_id for n in used])
        mined = self.chain.receipts(sorted({h for hs in ours.values() for h in hs}))
        moved = 0
        for n in used:
            hashes = ours.get(n.intent_id, [])
            if any(h in mined for h in hashes):
                continue
            a = self.audit_nonce(n.signer_address, n.nonce, hashes)
            if a.status == UNKNOWN:
                self._alarm(n, a)
                continue
            if a.status != OUTSIDE:
                self.store.forget_suspect(n.intent_id)
                continue
            if a.depth < self.cfg.confirmations:
                continue  # not deep enough yet to count as a sighting
            assert a.tx_hash is not None
            assert a.block is not None
            assert a.block_hash is not None
            if self.store.suspect(n.intent_id) != (a.tx_hash, a.block_hash):
                log.warning(
                    "intent %s: nonce %s of %s taken by %s in block %s (not ours); re-signed "
                    "if the next scan sees the same",
                    n.intent_id,
                    n.nonce,
                    n.signer_address,
                    a.tx_hash,
                    a.block,
                    extra={"intent_id": n.intent_id},
                )
                self.store.suspect_seen(n.intent_id, a.tx_hash, a.block, a.block_hash)
                continue
            moved += self._resign(n)
            self.store.forget_suspect(n.intent_id)
        return moved

    def _alarm(self, n: Newest, a: NonceAudit) -> None:
        problem = (
            f"intent {n.intent_id}: nonce {n.nonce} of {n.signer_address} is consumed at "
            f"block {a.head} but the transaction that took it was not found; held, not "
            "re-signed: look the signer up on an explorer or an archive node"
        )
        log.error(problem, extra={"intent_id": n.intent_id})
        self.mode.note(NONCE_ALARM, problem)

    def _resign(self, n: Newest) -> int:
        signer = self.signers(n.signer_ref)
        fees = feemath.capped(self.market(), self.cfg.fee_ceiling_wei)

        def sign(nonce: int) -> tuple[str, bytes]:
            spec = attempts.order(
                self.cfg.chain_id,
                nonce,
                fees,
                self.cfg.route.order_to(n.calldata),
                n.calldata,
                n.gas_limit,
                self.cfg.route.order_value(n.calldata),
            )
            s = signer.sign_transaction(spec.as_dict())
            return s.tx_hash, s.raw

        done = self.store.resign(n, sign, fees, n.nonce)
        if done is None:
            return 0
        nonce, attempt_id = done
        log.warning(
            "intent %s: nonce %s of %s was used outside the system; re-signed at %s",
            n.intent_id,
            n.nonce,
            n.signer_address,
            nonce,
        )
        fresh = self.store.newest((IntentState.SIGNED,), n.intent_id)
        if fresh:
            try:
                sent = self.sender.broadcast("resign", [fresh[0].raw])
            except UnsafeToSend:
                return 1  # written ahead; `send` / the reconciler sends it when safe
            if sent.outcomes[0].accepted:
                self.store.sent_after_resign(n.intent_id, attempt_id, sent.block, who(), sent.at(0))
        return 1
