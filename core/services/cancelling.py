"""The no-op cancel: a 0-value self-send at the intent's nonce, out-bidding what is pending
there, that gives the nonce back — for a stale or expired order, a signed order past its
signal's age, and the operator's `copytrade intent cancel`."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.domain import fees as feemath
from core.domain.errors import NotFound
from core.domain.fees import Fees
from core.domain.rows import Newest
from core.domain.states import IntentState
from core.ports import AttemptStore
from core.services.replacing import Replacer

log = logging.getLogger(__name__)
OPERATOR_TRIES = 5  # an operator's cancel that loses its claim to a scan in flight, again


class Canceller:
    def __init__(
        self,
        store: AttemptStore,
        replacer: Replacer,
        market: Callable[[], Fees],
        fee_ceiling_wei: int,
        max_signal_age_s: float,
    ) -> None:
        self.store = store
        self.replacer = replacer
        self.market = market
        self.fee_ceiling_wei = fee_ceiling_wei
        self.max_signal_age_s = max_signal_age_s

    def cancel(self, n: Newest, market: Fees, reason: str) -> int:
        """1 when the no-op was claimed (and sent, when the window allowed), else 0."""
        new = feemath.replacement(n.fees, market, self.fee_ceiling_wei)
        if new is None:
            log.warning(
                "intent %s: a no-op cannot out-bid within the ceiling",
                n.intent_id,
                extra={"intent_id": n.intent_id},
            )
            return 0
        return int(self.replacer.replace(n, "cancel", new, IntentState.CANCELLING, reason))

    def operator(self, intent_id: int) -> bool:
        """`copytrade intent cancel ID`. A claim lost to a replacement in flight (the
        stuck scan bumping the same intent) is tried again on the newer attempt."""
        for _ in range(OPERATOR_TRIES):
            found = self.store.newest(
                (IntentState.SIGNED, IntentState.SENT, IntentState.HELD), intent_id
            )
            if not found:
                raise NotFound(f"intent {intent_id} is not signed, sent or held: nothing to cancel")
            if self.cancel(found[0], self.market(), "operator"):
                return True
        return False

    def stale_signed(self) -> int:
        """Signed intents past their signal's max age: give the nonce back with a no-op."""
        market = None
        done = 0
        for n in self.store.newest((IntentState.SIGNED,)):
            if n.signal_age_s > self.max_signal_age_s:
                market = market or self.market()
                done += self.cancel(n, market, "stale")
        return done
