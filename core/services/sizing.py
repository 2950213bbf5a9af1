"""The `size` step: each pending intent of a signal sized and checked (core/domain/risk.py)
under its follower's row lock, behind the sequence gate. Equity-ratio followers are sized
from their equity and the leader's, read from the venue once per signal (one batch at one
block, core/services/equity.py) and recorded on the intent; an account whose equity cannot
be read is rejected alone (`no_equity: why`, `no_leader_equity: why`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from core import logs
from core.domain.accounts import REJECT
from core.domain.equity import Equity
from core.domain.errors import ChainError
from core.domain.risk import PROFILES, Decision, acceptable_price, decide, project_exposure
from core.domain.rows import SizingInput, SizingOutcome
from core.domain.sizing import EQUITY_RATIO, FIXED_SIZE
from core.domain.types import Action
from core.ports import PipelineChain, PriceSource, SignalStore, Venue
from core.services.equity import EquityReader
from core.services.terms import VenueTermsCache


class SizingConfig(Protocol):
    @property
    def profile(self) -> str: ...
    @property
    def max_signal_age_s(self) -> int: ...


@dataclass
class SignalSizer:
    signals: SignalStore
    venue: Venue
    chain: PipelineChain
    prices: PriceSource
    terms: VenueTermsCache
    cfg: SizingConfig

    def __post_init__(self) -> None:
        self.equity = EquityReader(self.venue, self.chain, self._price_or_none)

    def _price_or_none(self, asset: str) -> int | None:
        try:
            return self.venue_price(asset) or None
        except ChainError:
            return None

    def venue_price(self, asset: str) -> int | None:
        """The venue's on-chain price, or (a venue without one: GMX) the price source's;
        None or 0: no price."""
        c = self.venue.price_call(asset)
        if c is None:
            return self.prices.price_usd_1e6(asset)
        return self.venue.decode_price(self.chain.call(c.to, c.data))

    def size(self, pk: int) -> tuple[int, int]:
        """Size what the sequence gate releases; returns (sized, still gated). A signal
        past its max age (held behind the gate, a backlog, retries) sizes nothing: its
        pending intents end rejected(stale)."""
        sig = self.signals.signal(pk)
        logs.add(signal_id=sig.signal_id)
        if sig.age_s > self.cfg.max_signal_age_s:
            self.signals.reject_pending(pk, "stale")
            return 0, 0
        profile = PROFILES[self.cfg.profile]
        order = sig.order
        terms = self.terms.get()  # the venue's minimums (kept a while: decision 0022)
        known: list[int | None] = [sig.price_usd_1e6] if sig.price_usd_1e6 else []

        def reference() -> int | None:
            """The signal's price, else the venue's (read once per signal); None: no price
            (an asset the venue does not price answers 0)."""
            if not known:
                try:
                    known.append(self.venue_price(order.asset) or None)
                except ChainError:
                    known.append(None)
            return known[0]

        # equity-ratio: every such follower's equity (and the leader's) in one read — only
        # for an order sized from the leader's collateral (a close, or a decrease in
        # proportion, never needs it: an unreadable equity must not keep anyone in)
        needs_equity = not order.forced and (
            order.action.adds_exposure
            or (order.action is Action.DECREASE and order.fraction_1e18 is None)
        )
        readings: dict[str, Equity | str] = {}
        wanted = self.signals.equity_accounts(pk) if needs_equity else []
        if wanted:
            leaders = [] if sig.leader_equity_usd_1e6 else sorted({lead for _, lead in wanted})
            readings = self.equity.read([a for a, _ in wanted] + leaders)

        def equities(item: SizingInput) -> tuple[int, int] | str:
            f = item.follower
            mine = readings.get(f.account) or self.equity.read([f.account])[f.account]
            if isinstance(mine, str):
                return f"no_equity: {mine}"
            if sig.leader_equity_usd_1e6:
                return mine.total_usd_1e6, sig.leader_equity_usd_1e6
            lead = f.leader_address
            theirs = readings.get(lead) or self.equity.read([lead])[lead]
            if isinstance(theirs, str) or theirs.total_usd_1e6 <= 0:
                why = theirs if isinstance(theirs, str) else "the leader holds nothing there"
                return (
                    f"no_leader_equity: {why}; a producer whose leader is not on the venue "
                    "gives leader_equity_usd_1e6"
                )
            return mine.total_usd_1e6, theirs.total_usd_1e6

        def sizer(item: SizingInput) -> SizingOutcome:
            policy = item.follower.policy
            price_now = reference() if policy.sizing.kind == FIXED_SIZE else None
            if policy.sizing.kind == FIXED_SIZE and price_now is None:
                return Decision("no_price"), None  # units x price = notional
            figures = None
            if policy.sizing.kind == EQUITY_RATIO and needs_equity:
                got = equities(item)
                if isinstance(got, str):
                    return Decision(got), None
                figures = got
            priced = replace(order, price_usd_1e6=price_now or sig.price_usd_1e6)
            exposure = project_exposure(item.exposure_legs)
            account = item.account
            if account is not None and not self.venue.sides_apart:
                # one position per asset: the venue cannot hold both sides, so the later is
                # rejected here rather than reverted on chain
                account = replace(account, limits=replace(account.limits, opposite_sides=REJECT))
            decision = decide(priced, policy, profile, exposure, terms, figures, account)
            if not decision.accepted:
                return decision, None
            ref = reference()
            slip = policy.max_slippage_bps
            price = 0 if ref is None else acceptable_price(ref, order.side, order.action, slip)
            if price <= 0:  # never an acceptable price of 0; the sizes stay on the rejection
                return replace(decision, reason="no_price"), None
            return decision, price

        by_position = order.action is Action.CLOSE or order.fraction_1e18 is not None
        return self.signals.size_pending(pk, sizer, sig.leader_id, order.asset, by_position)
