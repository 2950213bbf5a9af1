"""A two-phase venue's outcomes (GMX v2): a mined request waits for the keeper.

Each watch pass, after the receipts:
1. a mined request without its order key gets it from its receipt's logs (the venue's
   `OrderCreated`);
2. one eth_getLogs batch over [the oldest waiting request's block, head] finds every fill,
   cancellation or freeze of those keys (the node answers from the canonical chain only,
   so a fill that a reorg removed is simply no longer there);
3. mined/frozen + a fill -> executed (price, size and the fill's block recorded);
   executed, the fill N blocks deep -> confirmed; executed whose fill is gone -> mined
   (it waits again: the request may be executed anew, or its own block left too and the
   receipt watcher puts it back to sent); mined + the venue's cancel N blocks deep ->
   venue_cancelled with the venue's reason (terminal: exposure released); mined + a freeze
   -> frozen;
4. a mined request with no outcome whose block is older, in block time, than the venue's
   cancel delay (GMX: REQUEST_EXPIRATION_TIME) gets copytrade's cancel (decision 0021):
   an intent of its own (leg 1, action `cancel`), created once and dispatched from
   check_mode, so the nonce safeguards cover it. Its mined cancel is the venue's
   `OrderCancelled`, which step 3 applies to the request.
Every move is a compare-and-set, so two watchers apply each outcome once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from core.domain.errors import ChainError, TransientError
from core.domain.rows import AwaitingOutcome
from core.domain.states import IntentState
from core.domain.venue import OutcomeKind, VenueOutcome
from core.ports import OutcomeStore, Venue, WatcherChain

log = logging.getLogger(__name__)
WAITING = (IntentState.MINED, IntentState.FROZEN)


@dataclass
class OutcomeResult:
    executed: int = 0
    confirmed: int = 0
    venue_cancelled: int = 0
    frozen: int = 0
    unexecuted: int = 0
    keyless: list[int] = field(default_factory=list)
    # Signals with an intent now past its outcome (executed or cancelled by the venue):
    # the follower's next intent, held by the sequence gate, may go.
    released: set[int] = field(default_factory=set)
    # Signals given a cancel of a request no keeper handled: dispatched from check_mode.
    cancels: set[int] = field(default_factory=set)


def latest(outcomes: list[VenueOutcome]) -> dict[str, VenueOutcome]:
    """The last outcome of each key, in chain order (a frozen order executed later is
    executed)."""
    by_key: dict[str, VenueOutcome] = {}
    for o in sorted(outcomes, key=lambda o: o.block_number):
        by_key[o.order_key] = o
    return by_key


class Outcomes:
    def __init__(
        self, store: OutcomeStore, chain: WatcherChain, venue: Venue, confirmations: int
    ) -> None:
        self.store = store
        self.chain = chain
        self.venue = venue
        self.confirmations = confirmations

    def poll(self, head: int) -> OutcomeResult:
        result = OutcomeResult()
        rows = self._with_keys(self.store.awaiting_outcome(), result)
        keyed = [r for r in rows if r.order_key]
        if not keyed:
            return result
        keys = sorted({str(r.order_key) for r in keyed})
        accounts = sorted({r.account for r in keyed})
        start = min(r.block_number for r in keyed)
        logs = self.chain.logs(self.venue.outcome_filters(accounts, keys), start, head)
        decoded = [o for lg in logs if (o := self.venue.decode_outcome(lg)) is not None]
        found = latest([o for o in decoded if o.order_key in keys])
        unhandled: list[AwaitingOutcome] = []
        for r in keyed:
            o = found.get(str(r.order_key))
            self._apply(r, o, head, result)
            if o is None and r.state is IntentState.MINED and not r.cancel_asked:
                unhandled.append(r)
        if unhandled:
            try:
                self._ask_cancels(unhandled, head, result)
            except Exception:  # noqa: BLE001 - best effort: the outcomes above are applied,
                # and the watch pass goes on to its wake-ups; the next pass asks again.
                log.exception("the check for requests no keeper handled failed")
        return result

    def cancel_after(self) -> int | None:
        """The venue's cancel delay in seconds, read each time (a governance change takes
        effect at once); None: the venue has no such cancel, the read failed, or it says 0
        (an unset key: cancelling at once would race the keepers and kill every copy)."""
        c = self.venue.cancel_after_call()
        if c is None:
            return None
        try:
            after = self.venue.decode_cancel_after(self.chain.call(c.to, c.data))
        except (ChainError, TransientError) as exc:
            log.warning("the venue's cancel delay could not be read: %s", exc)
            return None
        if after <= 0:
            log.error("the venue's cancel delay reads %s: no request is cancelled", after)
            return None
        return after

    def _ask_cancels(self, rows: list[AwaitingOutcome], head: int, result: OutcomeResult) -> None:
        """Requests no keeper handled within the venue's delay, measured between their
        block's timestamp and the head's (never the wall clock: the venue's check is on
        block time, and our cancel mines no earlier than the head)."""
        after = self.cancel_after()
        if after is None:
            return
        try:
            times = self.chain.block_times(sorted({head} | {r.block_number for r in rows}))
        except TransientError as exc:  # the outcomes are applied; the next pass asks again
            log.warning("block times for the cancel check could not be read: %s", exc)
            return
        now = times.get(head)
        if now is None:
            return
        for r in rows:
            at = times.get(r.block_number)
            if at is None or now - at < after:
                continue
            pk = self.store.ask_cancel(r.intent_id, str(r.order_key))
            if pk is not None:
                result.cancels.add(pk)
                log.warning(
                    "intent %s: no keeper handled request %s in %d s; cancelling it",
                    r.intent_id,
                    r.order_key,
                    now - at,
                    extra={"intent_id": r.intent_id},
                )

    def _deep(self, block: int, head: int) -> bool:
        return head - block + 1 >= self.confirmations

    def _with_keys(
        self, rows: list[AwaitingOutcome], result: OutcomeResult
    ) -> list[AwaitingOutcome]:
        """Rows with their order key; a key read from a receipt is stored."""
        keyless = [r for r in rows if not r.order_key]
        if not keyless:
            return rows
        receipts = self.chain.receipt_logs([r.tx_hash for r in keyless])
        out: list[AwaitingOutcome] = [r for r in rows if r.order_key]
        for r in keyless:
            got = receipts.get(r.tx_hash)
            key = self.venue.request_key(got[1]) if got else None
            if key is None:
                if got and got[0] == 1:
                    # Mined, succeeded, and no order: not a request of this venue. Left
                    # mined and reported (status lists it); never guessed.
                    log.error(
                        "intent %s: request %s mined without an order key",
                        r.intent_id,
                        r.tx_hash,
                        extra={"intent_id": r.intent_id},
                    )
                    result.keyless.append(r.intent_id)
                continue
            self.store.set_order_key(r.intent_id, key)
            out.append(replace(r, order_key=key))
        return out

    def _apply(
        self, r: AwaitingOutcome, o: VenueOutcome | None, head: int, result: OutcomeResult
    ) -> None:
        if r.state is IntentState.EXECUTED:
            self._executed(r, o, head, result)
        elif o is None:
            return
        elif o.kind is OutcomeKind.EXECUTED:
            if self._fill(r, o):
                result.executed += 1
                result.released.add(r.signal_pk)
                if self._deep(o.block_number, head) and self._confirm(r.intent_id, o):
                    result.confirmed += 1
        elif o.kind is OutcomeKind.CANCELLED and self._deep(o.block_number, head):
            if self.store.transition(
                r.intent_id,
                r.state,
                IntentState.VENUE_CANCELLED,
                reason=f"venue_cancelled: {o.reason}"[:300],
            ):
                result.venue_cancelled += 1
                result.released.add(r.signal_pk)
        elif (
            o.kind is OutcomeKind.FROZEN
            and r.state is IntentState.MINED
            and self.store.transition(
                r.intent_id, r.state, IntentState.FROZEN, reason=f"frozen: {o.reason}"[:300]
            )
        ):
            result.frozen += 1

    def _fill(self, r: AwaitingOutcome, o: VenueOutcome) -> bool:
        return self.store.transition(
            r.intent_id,
            r.state,
            IntentState.EXECUTED,
            fill_price_usd_1e6=o.price_usd_1e6,
            fill_size_usd_1e6=o.size_delta_usd_1e6,
            executed_block=o.block_number,
            executed_block_hash=o.block_hash,
        )

    def _confirm(self, intent_id: int, o: VenueOutcome) -> bool:
        return self.store.transition(
            intent_id,
            IntentState.EXECUTED,
            IntentState.CONFIRMED,
            executed_block=o.block_number,
            executed_block_hash=o.block_hash,
        )

    def _executed(
        self, r: AwaitingOutcome, o: VenueOutcome | None, head: int, result: OutcomeResult
    ) -> None:
        if o is None or o.kind is not OutcomeKind.EXECUTED:
            if self.store.transition(
                r.intent_id,
                IntentState.EXECUTED,
                IntentState.MINED,
                fill_price_usd_1e6=None,
                fill_size_usd_1e6=None,
                executed_block=None,
                executed_block_hash=None,
            ):
                result.unexecuted += 1
                log.warning(
                    "intent %s: its fill left the canonical chain; waiting for the venue again",
                    r.intent_id,
                    extra={"intent_id": r.intent_id},
                )
            return
        if self._deep(o.block_number, head):
            if self._confirm(r.intent_id, o):
                result.confirmed += 1
        elif o.block_hash != r.executed_block_hash:
            self.store.transition(
                r.intent_id,
                IntentState.EXECUTED,
                IntentState.EXECUTED,
                executed_block=o.block_number,
                executed_block_hash=o.block_hash,
            )
