"""Stuck transactions: replace-by-fee at the same nonce, the fee ceiling (held), and the
no-op cancel (a 0-value self-send at the same nonce) that gives a nonce back.

Every new attempt is claimed by compare-and-set on its attempt number and written ahead
with its signed bytes before the broadcast; every broadcast happens inside the mode
service's broadcast window (the verdict read again right before the send)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core import metrics
from core.domain import fees as feemath
from core.domain.chain import OUTSIDE, UNKNOWN, NonceAudit
from core.domain.errors import NotFound, UnsafeToSend
from core.domain.fees import Fees
from core.domain.mode import NONCE_ALARM
from core.domain.rows import Newest
from core.domain.states import IntentState
from core.faults import pause
from core.ports import MaintenanceChain, NonceAuditor, ResignStore, SignerSource
from core.services.execution import who
from core.services.mode import ModeService

log = logging.getLogger(__name__)
I = IntentState
CANCEL_GAS = 21_000


@dataclass(frozen=True)
class MaintenanceConfig:
    chain_id: int
    venue_address: str
    fee_ceiling_wei: int
    min_tip_wei: int
    stuck_after_s: float
    stuck_after_blocks: int
    sent_expiry_s: float
    max_signal_age_s: float
    confirmations: int = 2


@dataclass
class ScanResult:
    replaced: int = 0
    held: int = 0
    cancelled: int = 0
    rebroadcast: int = 0


class Maintenance:
    def __init__(
        self,
        store: ResignStore,
        chain: MaintenanceChain,
        mode: ModeService,
        cfg: MaintenanceConfig,
        signers: SignerSource,
        audit_nonce: NonceAuditor,
    ) -> None:
        self.store = store
        self.chain = chain
        self.mode = mode
        self.cfg = cfg
        self.signers = signers
        self.audit_nonce = audit_nonce

    def _market(self) -> Fees:
        base, rewards = self.chain.fee_history()
        return feemath.suggest(base, rewards, self.cfg.min_tip_wei)

    def scan(self) -> ScanResult:
        """One round: every stuck, held or expired intent gets at most one new attempt."""
        result = ScanResult()
        todo = self.store.newest((I.SIGNED, I.SENT, I.HELD, I.CANCELLING))
        if not todo:
            return result
        base, rewards = self.chain.fee_history()
        market = feemath.suggest(base, rewards, self.cfg.min_tip_wei)
        latest = self.chain.block_number()
        for n in todo:
            if n.state is I.SIGNED:
                continue  # its first broadcast belongs to `send` (resume, reconciler)
            if n.state in (I.SENT, I.HELD) and n.signal_age_s > self.cfg.max_signal_age_s:
                # Too old to be a copy: no more bumps (nor re-broadcasts of an unaccepted
                # one); the no-op gives the nonce back.
                result.cancelled += self._cancel(n, market, "stale")
                continue
            if n.state is I.SENT and n.sent_age_s >= self.cfg.sent_expiry_s:
                # Expiry first, counted from the intent's first accepted broadcast: a bump
                # the node refuses for ever (unaffordable in a fee spike) must not keep the
                # no-op from being tried, nor reset the clock each time one is made.
                result.cancelled += self._cancel(n, market, "expired")
                continue
            if not n.broadcast:
                # A replacement or no-op written ahead but never accepted (a crash, a stop,
                # a refusal): the same bytes again.
                result.rebroadcast += self.rebroadcast(n)
                continue
            stuck = n.state is I.HELD or feemath.is_stuck(
                age_s=n.age_s,
                blocks_since=None if n.broadcast_block is None else latest - n.broadcast_block,
                max_fee_per_gas=n.fees.max_fee_per_gas,
                next_base_fee=base,
                after_s=self.cfg.stuck_after_s,
                after_blocks=self.cfg.stuck_after_blocks,
            )
            if not stuck:
                continue
            new = feemath.replacement(n.fees, market, self.cfg.fee_ceiling_wei)
            if new is None:
                if n.state is I.SENT and self.store.claim_state(n, I.HELD):
                    log.warning(
                        "intent %s held: next replacement passes the fee ceiling", n.intent_id
                    )
                    result.held += 1
                continue
            back = I.SENT if n.state is I.HELD else None
            if self._replace(n, n.kind, new, back):
                result.replaced += 1
        return result

    def cancel(self, intent_id: int) -> bool:
        """Operator cancel (`copytrade intent cancel ID`): a no-op at the intent's nonce."""
        found = self.store.newest((I.SIGNED, I.SENT, I.HELD), intent_id)
        if not found:
            raise NotFound(f"intent {intent_id} is not signed, sent or held: nothing to cancel")
        return bool(self._cancel(found[0], self._market(), "operator"))

    def cancel_stale_signed(self) -> int:
        """Signed intents past their signal's max age: give the nonce back with a no-op."""
        market = None
        done = 0
        for n in self.store.newest((I.SIGNED,)):
            if n.signal_age_s > self.cfg.max_signal_age_s:
                market = market or self._market()
                done += self._cancel(n, market, "stale")
        return done

    def reconcile_nonces(self) -> int:
        """Detect our nonces consumed on chain by someone else's transaction and re-sign
        those intents at the signer's next free nonce (never a rewind). A first look at the
        latest counts picks the candidates; each is then decided from one endpoint at one
        pinned block (core/adapters/nonce_audit.py): the transaction that took the nonce is
        found and its hash is none of ours, it is COPYTRADE_CONFIRMATIONS blocks deep, and
        the previous scan saw the same transaction in the same block. A nonce consumed by a
        transaction that cannot be found holds the intent as it is and raises the
        `nonce_alarm`; it is never re-signed on a guess."""
        todo = [n for n in self.store.newest((I.SIGNED, I.SENT, I.HELD)) if n.kind == "order"]
        if not todo:
            return 0
        latest = self.chain.nonces(sorted({n.signer_address for n in todo}), "latest")
        pause("nonces.after_count")
        moved = 0
        for n in todo:
            if n.nonce >= latest.get(n.signer_address, 0):
                continue
            a = self.audit_nonce(n.signer_address, n.nonce, self.store.hashes(n.intent_id))
            if a.status == UNKNOWN:
                self._nonce_alarm(n, a)
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

    def _nonce_alarm(self, n: Newest, a: NonceAudit) -> None:
        problem = (
            f"intent {n.intent_id}: nonce {n.nonce} of {n.signer_address} is consumed at "
            f"block {a.head} but the transaction that took it was not found; held, not "
            "re-signed: look the signer up on an explorer or an archive node"
        )
        log.error(problem, extra={"intent_id": n.intent_id})
        self.mode.note(NONCE_ALARM, problem)

    def _resign(self, n: Newest) -> int:
        signer = self.signers(n.signer_ref)
        fees = feemath.capped(self._market(), self.cfg.fee_ceiling_wei)

        def sign(nonce: int) -> tuple[str, bytes]:
            s = signer.sign_transaction(
                {
                    "type": 2,
                    "chainId": self.cfg.chain_id,
                    "nonce": nonce,
                    "to": self.cfg.venue_address,
                    "value": 0,
                    "data": n.calldata,
                    "gas": n.gas_limit,
                    "maxFeePerGas": fees.max_fee_per_gas,
                    "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
                }
            )
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
        fresh = self.store.newest((I.SIGNED,), n.intent_id)
        if fresh:
            try:
                with self.mode.broadcast_window() as window:
                    (out,) = self.chain.send_raw([fresh[0].raw], window.guard)
            except UnsafeToSend:
                return 1  # written ahead; `send` / the reconciler sends it when safe
            metrics.broadcast_outcomes("resign", [out])
            if out.accepted:
                self.store.sent_after_resign(
                    n.intent_id,
                    attempt_id,
                    self.chain.block_number(),
                    who(),
                    out.at or window.opened,
                )
        return 1

    def rebroadcast(self, n: Newest) -> int:
        """Send an attempt's written-ahead bytes again (same hash)."""
        try:
            with self.mode.broadcast_window() as window:
                (out,) = self.chain.send_raw([n.raw], window.guard)
        except UnsafeToSend:
            return 0
        metrics.broadcast_outcomes("rebroadcast", [out])
        if out.accepted:
            at = out.at or window.opened
            self.store.mark_broadcast(n.attempt_id, self.chain.block_number(), who(), at)
            return 1
        self.store.record_error(n.attempt_id, f"{out.kind}: {out.message}")
        return 0

    # -- internals ---------------------------------------------------------------------------
    def _cancel(self, n: Newest, market: Fees, reason: str) -> int:
        new = feemath.replacement(n.fees, market, self.cfg.fee_ceiling_wei)
        if new is None:
            log.warning(
                "intent %s: a no-op cannot out-bid within the ceiling",
                n.intent_id,
                extra={"intent_id": n.intent_id},
            )
            return 0
        return int(self._replace(n, "cancel", new, I.CANCELLING, reason))

    def _replace(
        self,
        n: Newest,
        kind: str,
        fees: Fees,
        new_state: IntentState | None,
        reason: str | None = None,
    ) -> bool:
        signer = self.signers(n.signer_ref)
        if kind == "cancel":
            to, data, gas = signer.address, b"", CANCEL_GAS
        else:
            to, data, gas = self.cfg.venue_address, n.calldata, n.gas_limit
        signed = signer.sign_transaction(
            {
                "type": 2,
                "chainId": self.cfg.chain_id,
                "nonce": n.nonce,
                "to": to,
                "value": 0,
                "data": data,
                "gas": gas,
                "maxFeePerGas": fees.max_fee_per_gas,
                "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
            }
        )
        attempt_id = self.store.claim(
            n, kind, signed.tx_hash, signed.raw, fees, gas, new_state, reason
        )
        if attempt_id is None:
            return False  # another scanner claimed this round
        pause("replace.after_claim")
        try:
            with self.mode.broadcast_window() as window:
                (out,) = self.chain.send_raw([signed.raw], window.guard)
        except UnsafeToSend as exc:
            log.warning(
                "intent %s: %s attempt written, not sent: %s",
                n.intent_id,
                kind,
                exc,
                extra={"intent_id": n.intent_id},
            )
            return True
        metrics.broadcast_outcomes("cancel" if kind == "cancel" else "replacement", [out])
        if out.accepted:
            at = out.at or window.opened
            self.store.mark_broadcast(attempt_id, self.chain.block_number(), who(), at)
        else:
            self.store.record_error(attempt_id, f"{out.kind}: {out.message}")
        return True
