"""Watching by block: one pass reads the receipts of every attempt of every in-flight
intent (one JSON-RPC batch), then applies mined / confirmed / reverted / cancelled, puts
an intent whose receipt left the chain back to sent, and has the same bytes of any
transaction the node no longer knows (dropped, or reorged out) sent again
(core/services/resending.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from core import metrics
from core.domain import subaccounts
from core.domain.chain import Receipt
from core.domain.rows import InFlightIntent, Mined
from core.domain.states import IntentState
from core.domain.types import CANCEL_ACTION
from core.ports import AttemptStore, InFlightStore, OutcomeStore, SignalStore, Venue, WatcherChain
from core.services.mode import ModeService
from core.services.outcomes import Outcomes
from core.services.resending import LostResender
from core.services.sending import Sender

log = logging.getLogger(__name__)
PENDING_STATES = (IntentState.SENT, IntentState.HELD, IntentState.CANCELLING)


@dataclass
class WatchResult:
    block: int = 0
    watched: int = 0
    mined: int = 0
    confirmed: int = 0
    reverted: int = 0
    cancelled: int = 0
    reorged: int = 0
    rebroadcast: int = 0
    signals_done: int = 0
    # a two-phase venue (core/services/outcomes.py)
    executed: int = 0
    venue_cancelled: int = 0


class Watcher:
    def __init__(
        self,
        store: SignalStore,
        txs: InFlightStore,
        attempts: AttemptStore,
        chain: WatcherChain,
        mode: ModeService,
        confirmations: int,
        venue: Venue,
        outcomes: OutcomeStore,
        wake: Callable[[int], None] | None = None,
        resume: Callable[[int], None] | None = None,
    ) -> None:
        """`wake(signal_pk)`: wake the leader's next signal waiting behind `signal_pk` (a
        two-phase venue gates a follower's next intent on the outcome, which arrives here;
        a lost wake-up is the reconciler's). `resume(signal_pk)`: dispatch the signal from
        check_mode (a cancel of its request was created; a lost one is the reconciler's)."""
        self.store = store
        self.txs = txs
        self.attempts = attempts
        self.chain = chain
        self.mode = mode
        self.confirmations = confirmations
        self.venue = venue
        self.resender = LostResender(attempts, chain, Sender(mode, chain))
        # A two-phase venue: a mined request is not a fill; its outcome comes from the
        # venue's events.
        self.outcomes = Outcomes(outcomes, chain, venue, confirmations) if venue.two_phase else None
        self.wake = wake
        self.resume = resume

    def poll(self) -> WatchResult:
        result = WatchResult()
        flights = self.txs.in_flight()
        result.watched = len(flights)
        if flights:
            result.block = self.chain.block_number()
            receipts = self.chain.receipts([h for f in flights for h in f.hashes])
            silent: list[InFlightIntent] = []
            orders: list[tuple[InFlightIntent, Receipt]] = []
            for f in flights:
                mined = [
                    (receipts[h], k)
                    for h, k in zip(f.hashes, f.kinds, strict=True)
                    if h in receipts
                ]
                if mined and mined[0][1] != "cancel":
                    orders.append((f, mined[0][0]))
                elif mined:
                    self._apply_cancel(f, mined[0][0], result)
                elif f.state is IntentState.MINED:
                    self._reorged(f, IntentState.SENT, result)
                elif f.state is IntentState.CANCELLING and f.block_number is not None:
                    self.attempts.set_block(f.intent_id, f.state, None, None)
                else:
                    silent.append(f)
            self._apply_orders(orders, result)
            result.rebroadcast += self.resender.resend(silent)
        if self.outcomes is not None:
            if not flights:
                result.block = self.chain.block_number()
            o = self.outcomes.poll(result.block)
            result.executed += o.executed
            result.confirmed += o.confirmed
            result.venue_cancelled += o.venue_cancelled
            self._wake(o.released, self.wake)
            self._wake(o.cancels, self.resume)
        result.signals_done = self.store.finish_signals()
        return result

    def _wake(self, pks: set[int], wake: Callable[[int], None] | None) -> None:
        if wake is None:
            return
        for pk in sorted(pks):
            try:
                wake(pk)
            except Exception:  # noqa: BLE001 - the outcome is applied; the reconciler
                # re-dispatches what a failed wake-up (the broker down) left waiting.
                log.exception("signal %s: a dispatch after an outcome failed", pk)

    def _apply_orders(
        self, orders: list[tuple[InFlightIntent, Receipt]], result: WatchResult
    ) -> None:
        """Orders with a receipt, in bulk: -> mined (one statement per source state), then
        those N blocks deep with status 1 -> confirmed (one statement); a reverted one is
        applied on its own (its reason costs an eth_call)."""

        def row(f: InFlightIntent, r: Receipt) -> Mined:
            return Mined(f.intent_id, f.state, r.tx_hash, r.block_number, r.block_hash, f.hashes)

        won = self.txs.mark_mined([row(f, r) for f, r in orders if f.state in PENDING_STATES])
        result.mined += len(won)
        for f, r in orders:
            if f.state is IntentState.MINED and f.block_number != r.block_number:
                # Re-included elsewhere after a reorg (perhaps lower): a two-phase venue's
                # outcomes are looked for from the request's block, so it follows the receipt.
                self.attempts.set_block(f.intent_id, f.state, r.block_number, r.block_hash)
        deep = [
            (f, r)
            for f, r in orders
            if (f.state is IntentState.MINED or f.intent_id in won)
            and result.block - r.block_number + 1 >= self.confirmations
        ]
        now = datetime.now(UTC)
        # On a two-phase venue a successful request is confirmed by its fill (outcomes);
        # copytrade's cancel of a request is one-phase (its own receipt N deep).
        fills = [
            row(f, r)
            for f, r in deep
            if r.status == 1 and (self.outcomes is None or f.action == CANCEL_ACTION)
        ]
        for _, sent_at in self.txs.confirm(fills):
            result.confirmed += 1
            if sent_at is not None:
                metrics.observe_broadcast_to_confirmed((now - sent_at).total_seconds())
        for f, r in deep:
            if r.status != 1:
                self._revert(f, r, result)

    def _revert(self, f: InFlightIntent, r: Receipt, result: WatchResult) -> None:
        to = self.venue.order_to(f.calldata)
        value = self.venue.order_value(f.calldata)
        why = self.chain.revert_reason(
            f.signer_address, to, f.calldata, r.block_number, value, self.venue.describe_revert
        )
        why = subaccounts.venue_reason(why) or why
        if self.txs.transition(
            f.intent_id,
            IntentState.MINED,
            IntentState.REVERTED,
            block_number=r.block_number,
            block_hash=r.block_hash,
            reason=f"reverted: {why}",
        ):
            result.reverted += 1

    def _apply_cancel(self, f: InFlightIntent, r: Receipt, result: WatchResult) -> None:
        """The no-op cancel was mined: cancelling -> cancelled once N blocks deep."""
        if f.state is not IntentState.CANCELLING:
            return
        if f.block_number != r.block_number:
            self.attempts.set_block(f.intent_id, f.state, r.block_number, r.block_hash)
        deep = result.block - r.block_number + 1 >= self.confirmations
        if deep and self.txs.transition(
            f.intent_id,
            IntentState.CANCELLING,
            IntentState.CANCELLED,
            tx_hash=r.tx_hash,
            block_number=r.block_number,
            block_hash=r.block_hash,
        ):
            self._mark_attempts(f, r.tx_hash)
            result.cancelled += 1

    def _mark_attempts(self, f: InFlightIntent, winner: str) -> None:
        self.txs.mark_mined_attempt(f.hashes, winner)

    def _reorged(self, f: InFlightIntent, back: IntentState, result: WatchResult) -> None:
        if self.txs.transition(
            f.intent_id, IntentState.MINED, back, block_number=None, block_hash=None
        ):
            result.reorged += 1
            log.warning(
                "intent %s: its block left the canonical chain; back to %s", f.intent_id, back.value
            )
