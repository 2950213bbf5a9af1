"""The per-signal pipeline: validate -> size -> check_mode -> build_tx -> send.

Each step works on the signal's intents that are in the state it handles, so a step run
twice (redelivery, a resumed chain, two workers) finds nothing left to do.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from core import logs, metrics
from core.domain import attempts, fees
from core.domain.errors import ChainError, SignerError, TransientError, UnsafeToSend
from core.domain.leader_fills import proportional
from core.domain.rows import Signed, ToSend, ToSign
from core.domain.states import IntentState, SignalState
from core.domain.steps import resume_step
from core.domain.types import CANCEL_ACTION, Action, Mode, Side
from core.domain.venue import OrderCall
from core.faults import pause
from core.ports import (
    Dispatcher,
    IntentStore,
    NonceAllocator,
    PipelineChain,
    PriceSource,
    SignalStore,
    SignerSource,
    Venue,
)
from core.services import subaccount_checks
from core.services.affordability import short_of_collateral, unaffordable
from core.services.mode import ModeService
from core.services.sending import Sender, who
from core.services.sizing import SignalSizer
from core.services.terms import VenueTermsCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExecutionConfig:
    chain_id: int
    profile: str
    max_signal_age_s: int
    gas_limit: int
    min_tip_wei: int
    fee_ceiling_wei: int
    terms_ttl_s: float = 60.0


def order_call(t: ToSign, close_size: int | None = None, execution_fee_wei: int = 0) -> OrderCall:
    return OrderCall(
        action=Action(t.action),
        asset=t.asset,
        is_long=t.side == Side.LONG.value,
        collateral_usd_1e6=t.collateral_usd_1e6,
        leverage_x=t.leverage_x,
        acceptable_price_usd_1e6=t.acceptable_price_usd_1e6,
        client_order_id=bytes.fromhex(t.idempotency_key[2:]),
        account=t.account,
        close_size=close_size,
        execution_fee_wei=execution_fee_wei,
        by_subaccount=t.subaccount_of is not None,
    )


class Pipeline:
    def __init__(
        self,
        signals: SignalStore,
        intents: IntentStore,
        nonces: NonceAllocator,
        chain: PipelineChain,
        mode: ModeService,
        cfg: ExecutionConfig,
        venue: Venue,
        signers: SignerSource,
        dispatcher: Dispatcher,
        prices: PriceSource,
    ) -> None:
        self.signals = signals
        self.intents = intents
        self.nonces = nonces
        self.chain = chain
        self.mode = mode
        self.cfg = cfg
        self.venue = venue
        self.signers = signers
        self.sender = Sender(mode, chain)
        self.dispatcher = dispatcher
        self.prices = prices
        self.terms = VenueTermsCache(venue, chain, cfg.terms_ttl_s)
        self.sizing = SignalSizer(signals, venue, chain, prices, self.terms, cfg)

    def validate(self, pk: int) -> SignalState:
        state, signal_id = self.signals.expand(pk, self.cfg.max_signal_age_s)
        logs.add(signal_id=signal_id)
        return state

    def venue_price(self, asset: str) -> int | None:
        return self.sizing.venue_price(asset)

    def size(self, pk: int) -> tuple[int, int]:
        """Size what the sequence gate releases; returns (sized, still gated)
        (core/services/sizing.py)."""
        return self.sizing.size(pk)

    def size_step(self, pk: int) -> bool:
        """The `size` step: True when the chain goes on (something was sized). Gated
        intents (an earlier intent of the follower not yet past send) are woken by the
        `send` of the signal ahead; a lost wake-up (a crash in between) is the reconciler's.
        No polling: under load, one retry per waiting signal filled the queue ahead of the
        signal at the head. When nothing of this signal waits to reach send (all rejected,
        stale or sized by another chain), the leader's next signal is woken now."""
        sized, gated = self.size(pk)
        if not sized and not gated:
            self.wake_next(pk)
        return bool(sized)

    def resume(self, pk: int) -> None:
        """Dispatch `pk` from check_mode: a cancel of its request was created."""
        self.dispatcher.dispatch(pk, start=resume_step(IntentState.CREATED))

    def wake_next(self, pk: int) -> None:
        """Dispatch the leader's next signal waiting behind `pk` from `size`."""
        nxt = self.signals.next_waiting(pk)
        if nxt is not None:
            self.dispatcher.dispatch(nxt, start=resume_step(IntentState.PENDING))

    def give_up(self, pk: int, exc: Exception) -> int:
        """A per-signal step failed for good (a bug or bad data): the signal's intents
        without a nonce end failed(internal: <Type>) and the leader's next signal is woken,
        so one broken signal never holds a leader's queue."""
        reason = f"internal: {type(exc).__name__}"
        n = self.signals.give_up(pk, reason)
        log.error("signal %s gave up after %s: %d intent(s) failed", pk, reason, n)
        self.wake_next(pk)
        return n

    def check_mode(self, pk: int) -> int:
        """Requested DRY (globally, or for a follower outside the canary cohort): the created
        intents are simulated and recorded as dry_run with the exact calldata LIVE would
        send. Forced DRY (LIVE requested, unsafe): the rest wait — UnsafeToSend, retried —
        or, past the signal's max age, end rejected(stale). Returns how many were dry-run."""
        return self._check(pk)[0]

    def _orders(self, todo: list[ToSign]) -> tuple[dict[int, bytes], dict[int, str]]:
        """Each intent's calldata; a close on a venue that closes by size (GMX) carries the
        whole position read from the venue now — none there: rejected(no_position). A
        request carries the execution fee the venue accepts at the fee ceiling, the most
        any attempt of it (a replacement too) can pay a gas (decision 0022)."""
        calldata: dict[int, bytes] = {}
        # A subaccount the venue would refuse (revoked, expired, out of actions): rejected
        # here, before a nonce; its other followers go on.
        refused = subaccount_checks.refusals(todo, self.venue, self.chain, self.intents.unmined)
        todo = [t for t in todo if t.intent_id not in refused]
        terms = self.terms.get() if any(t.action != CANCEL_ACTION for t in todo) else None
        for t in todo:
            if t.action == CANCEL_ACTION:  # copytrade's cancel of a request (decision 0021)
                by_sub = t.subaccount_of is not None
                calldata[t.intent_id] = self.venue.cancel_request(str(t.venue_order_key), by_sub)
                continue
            size, collateral = None, t.collateral_usd_1e6
            by_size = t.action == Action.CLOSE.value or t.fraction_1e18 is not None
            if by_size and self.venue.closes_by_size:
                # Sized from the follower's position on the venue, not from our rows (it may
                # have been liquidated or changed outside copytrade).
                c = self.venue.position_call(t.account, t.asset)
                long_ = t.side == Side.LONG.value
                p = self.venue.decode_position(t.asset, self.chain.call(c.to, c.data), long_)
                if p.size_raw == 0 or p.is_long != (t.side == Side.LONG.value):
                    what = "close" if t.action == Action.CLOSE.value else "decrease"
                    refused[t.intent_id] = f"no_position: no {t.side} {t.asset} position to {what}"
                    continue
                size = p.size_raw
                if t.fraction_1e18 is not None:
                    size = proportional(p.size_raw, t.fraction_1e18)
                    collateral = proportional(p.collateral_usd_1e6, t.fraction_1e18)
                    if t.shared and t.notional_usd_1e6 and p.size_usd_1e6 > 0:
                        # the share was fixed at sizing; a sibling may have added since:
                        # never more than this following's own notional
                        cap = t.notional_usd_1e6 * p.size_raw // p.size_usd_1e6
                        if size > cap:
                            size = cap
                            collateral = p.collateral_usd_1e6 * size // p.size_raw
                    if size == 0:
                        refused[t.intent_id] = "size_zero: the fraction of the position rounds to 0"
                        continue
            assert terms is not None
            fee = terms.execution_fee(Action(t.action).adds_exposure, self.cfg.fee_ceiling_wei)
            o = replace(order_call(t, size, fee), collateral_usd_1e6=collateral)
            if size is not None and t.action == Action.CLOSE.value and t.fraction_1e18 is not None:
                # its share of a position its account's followings hold together: a decrease
                # of that share, its collateral with it (the others' stay)
                o = replace(o, action=Action.DECREASE)
            calldata[t.intent_id] = self.venue.encode_order(o)
        return calldata, refused

    def _check(self, pk: int) -> tuple[int, list[ToSign], dict[int, bytes]]:
        """check_mode; also returns the created intents left to sign, and their calldata."""
        todo, age_s, signal_id = self.intents.created_and_age(pk)
        logs.add(signal_id=signal_id)
        if not todo:
            return 0, [], {}
        calldata, refused = self._orders(todo)
        if refused:
            self.intents.fail(refused, to=IntentState.REJECTED)
            todo = [t for t in todo if t.intent_id not in refused]
        verdict = self.mode.verdict()  # one read of the controls and the heartbeat
        requested_dry = verdict.requested is Mode.DRY
        canary = self.cfg.profile == "canary"
        dry = [t for t in todo if requested_dry or (canary and not t.in_cohort)]
        results = self._simulate(dry, calldata)
        n = self.intents.record_dry_run(results)
        live = [t for t in todo if t.intent_id not in results]
        copies = [t for t in live if t.action != CANCEL_ACTION]
        if copies and age_s > self.cfg.max_signal_age_s:
            # Too old to be a copy, whatever the mode: never signed (LIVE or forced DRY).
            # A cancel of a request is no copy: it takes risk away, and only the mode holds it.
            self.intents.fail({t.intent_id: "stale" for t in copies}, to=IntentState.REJECTED)
            live = [t for t in live if t.action == CANCEL_ACTION]
        if live and not verdict.live:
            raise UnsafeToSend(f"effective mode is DRY: {verdict.reason}")
        return n, live, calldata

    def _simulate(
        self, dry: list[ToSign], calldata: dict[int, bytes]
    ) -> dict[int, tuple[bytes, str | None]]:
        """DRY: each order simulated with eth_call as LIVE would send it — its value, and
        where it carries a fee the venue checks against tx.gasprice, the fee cap LIVE would
        sign now; the exact calldata recorded with the simulation's verdict."""
        results: dict[int, tuple[bytes, str | None]] = {}
        if not dry:
            return results
        gas_price = None
        if any(self.venue.order_value(calldata[t.intent_id]) for t in dry):
            base, rewards, _ = self.chain.fees_and_balances([])
            suggested = fees.suggest(base, rewards, self.cfg.min_tip_wei)
            gas_price = fees.capped(suggested, self.cfg.fee_ceiling_wei).max_fee_per_gas
        for t in dry:
            data = calldata[t.intent_id]
            value = self.venue.order_value(data)
            try:
                self.chain.call(
                    self.venue.order_to(data),
                    data,
                    sender=t.signer_address,
                    value=value,
                    gas_price=gas_price if value else None,
                    gas=self.cfg.gas_limit if value else None,
                )
                results[t.intent_id] = (data, None)
            except ChainError as exc:
                results[t.intent_id] = (data, f"simulation: {exc}"[:300])
        return results

    def build(self, pk: int) -> int:
        """created -> signed: nonce from the signer row, bytes written ahead. Runs
        check_mode again first, so a mode change since then is honoured."""
        _, todo, calldata = self._check(pk)
        if not todo:
            return 0
        pause("build.after_check")
        failures: dict[int, str] = {}
        waiting: set[int] = set()  # a signer whose service is down (KMS throttled): later
        for t in todo:
            try:
                if self.signers(t.signer_ref).address != t.signer_address:
                    failures[t.intent_id] = "signer_mismatch"
            except SignerError as exc:
                log.warning("intent %s: %s", t.intent_id, exc, extra={"intent_id": t.intent_id})
                failures[t.intent_id] = "signer_error"
            except TransientError as exc:
                log.warning(
                    "intent %s waits: %s", t.intent_id, exc, extra={"intent_id": t.intent_id}
                )
                waiting.add(t.intent_id)
        self.intents.fail(failures)
        able = [t for t in todo if t.intent_id not in waiting]
        signers = sorted({t.signer_address for t in able if t.intent_id not in failures})
        base, rewards, wei = self.chain.fees_and_balances(signers)
        fee = fees.capped(
            fees.suggest(base, rewards, self.cfg.min_tip_wei), self.cfg.fee_ceiling_wei
        )
        value = {t.intent_id: self.venue.order_value(calldata[t.intent_id]) for t in able}
        gas_each = fee.max_fee_per_gas * self.cfg.gas_limit
        poor = unaffordable(able, failures, gas_each, wei, value)
        failures.update(poor)
        poor.update(short_of_collateral(able, failures, self.venue, self.chain))
        failures.update(poor)
        for intent_id, why in poor.items():
            log.warning("intent %s rejected: %s", intent_id, why, extra={"intent_id": intent_id})
        self.intents.fail(poor, to=IntentState.REJECTED)
        usable = {t.signer_address for t in todo if t.intent_id not in failures}
        missing = self.nonces.missing_signers(usable)
        if missing:
            self.nonces.init_signers(self.chain.nonces(missing, "latest"), self.cfg.chain_id)

        def sign(t: ToSign, nonce: int) -> Signed:
            data = calldata[t.intent_id]
            spec = attempts.order(
                self.cfg.chain_id,
                nonce,
                fee,
                self.venue.order_to(data),
                data,
                self.cfg.gas_limit,
                self.venue.order_value(data),
            )
            s = self.signers(t.signer_ref).sign_transaction(spec.as_dict())
            return Signed(
                s.raw,
                s.tx_hash,
                data,
                fee.max_fee_per_gas,
                fee.max_priority_fee_per_gas,
                self.cfg.gas_limit,
            )

        checked = [t.intent_id for t in todo if t.intent_id not in failures]
        n, later = self.nonces.sign_created(
            pk, sign, checked, waiting, max_age_s=self.cfg.max_signal_age_s
        )
        pause("build.after_commit")
        if later:
            # Left `created`: the other followers go on to `send`; the reconciler brings
            # these back once they have been idle COPYTRADE_RECONCILE_IDLE_AFTER_S.
            log.warning("signal %s: %d intent(s) wait for their signer", pk, later)
        return n

    def send_step(self, pk: int) -> int:
        """The `send` step: send, then wake the leader's next waiting signal (this one's
        intents are past send)."""
        n = self.send(pk)
        self.wake_next(pk)
        return n

    def send(self, pk: int) -> int:
        """signed -> sent: broadcast the written-ahead bytes (the same bytes on every try),
        inside the broadcast window (the verdict read again before every chunk)."""
        todo, age_s, signal_id = self.intents.signed_and_age(pk)
        logs.add(signal_id=signal_id)
        if not todo:
            return 0
        # The signal's age is a hard limit on the broadcast too: past it the window's guard
        # refuses every chunk, and the no-op cancel (stuck-transactions work) consumes the
        # nonces instead. A cancel of a request is no copy: only this send bounds it.
        now = time.monotonic()
        copies = [t for t in todo if not t.is_cancel]
        cancels = [t for t in todo if t.is_cancel]
        n = self._send(pk, copies, now + self.cfg.max_signal_age_s - age_s) if copies else 0
        if cancels:
            n += self._send(pk, cancels, now + self.cfg.max_signal_age_s)
        return n

    def _send(self, pk: int, todo: list[ToSend], expires_at: float) -> int:
        pause("send.before_window")
        try:
            if time.monotonic() > expires_at:
                raise UnsafeToSend("the signal is past its max age")
            sent = self.sender.broadcast(
                "order", [t.raw for t in todo], expires_at, in_window="send.in_window"
            )
        except UnsafeToSend:
            if time.monotonic() > expires_at:
                # Signed past max age: the nonce is ours and must be consumed; the no-op
                # cancel (stuck-transactions work) does that. Reported by `status`.
                log.warning("signal %s: %d signed intent(s) past max age wait", pk, len(todo))
                return 0
            raise
        pause("send.after_broadcast")
        ok: list[ToSend] = []
        errors: dict[int, str] = {}
        for t, out in zip(todo, sent.outcomes, strict=True):
            if out.accepted or (out.kind == "nonce_too_low" and self.chain.receipts([t.tx_hash])):
                ok.append(t)
            else:
                errors[t.attempt_id] = f"{out.kind}: {out.message}"
        at = {t.attempt_id: sent.at(i) for i, t in enumerate(todo)}
        n, age_s = self.intents.mark_sent(
            ok, errors, at, sent_by=who(), block=sent.block, signal_pk=pk
        )
        if n and not todo[0].is_cancel:  # a cancel's signal-to-broadcast is no copy latency
            metrics.observe_signal_to_broadcast(age_s, n)
        if errors:
            raise TransientError(f"{len(errors)} broadcast(s) of signal {pk} refused; will retry")
        return n
