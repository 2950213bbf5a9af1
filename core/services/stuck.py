"""The stuck-transaction scan: one round over every signed, sent, held or cancelling
intent's newest attempt. What to do with each is the pure decision in core/domain/stuck.py;
the replacement, hold, no-op and re-broadcast are core/services/replacing.py and
cancelling.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.domain import fees as feemath
from core.domain import stuck
from core.domain.errors import SignerError, TransientError
from core.domain.fees import Fees
from core.domain.rows import Newest
from core.domain.states import IntentState
from core.ports import AttemptStore, MaintenanceChain
from core.services.cancelling import Canceller
from core.services.replacing import Replacer

log = logging.getLogger(__name__)


@dataclass
class ScanResult:
    replaced: int = 0
    held: int = 0
    cancelled: int = 0
    rebroadcast: int = 0


class StuckScan:
    def __init__(
        self,
        store: AttemptStore,
        chain: MaintenanceChain,
        replacer: Replacer,
        canceller: Canceller,
        rules: stuck.Rules,
        min_tip_wei: int,
    ) -> None:
        self.store = store
        self.chain = chain
        self.replacer = replacer
        self.canceller = canceller
        self.rules = rules
        self.min_tip_wei = min_tip_wei

    def scan(self) -> ScanResult:
        """One round: every stuck, held or expired intent gets at most one new attempt."""
        result = ScanResult()
        todo = self.store.newest(
            (IntentState.SIGNED, IntentState.SENT, IntentState.HELD, IntentState.CANCELLING)
        )
        if not todo:
            return result
        # Decided from the chain: an intent one of whose hashes is mined is the watcher's
        # to record, not a stuck one (one batched read; the watcher may be behind).
        ours = self.store.hashes_of([n.intent_id for n in todo])
        mined = self.chain.receipts(sorted({h for hs in ours.values() for h in hs}))
        todo = [n for n in todo if not any(h in mined for h in ours.get(n.intent_id, []))]
        if not todo:
            return result
        base, rewards = self.chain.fee_history()
        market = feemath.suggest(base, rewards, self.min_tip_wei)
        head = self.chain.block_number()
        for n in todo:
            a = stuck.decide(n, market, base, head, self.rules)
            try:
                self._carry_out(n, a, market, result)
            except (SignerError, TransientError) as exc:
                # One intent's signer (a disabled or throttled key) never stalls the round:
                # the others go on; this one is decided again next round.
                log.warning(
                    "intent %s: %s not done this round: %s",
                    n.intent_id,
                    a.what,
                    exc,
                    extra={"intent_id": n.intent_id},
                )
        return result

    def _carry_out(self, n: Newest, a: stuck.Action, market: Fees, result: ScanResult) -> None:
        if a.what == stuck.CANCEL:
            assert a.reason is not None
            result.cancelled += self.canceller.cancel(n, market, a.reason)
        elif a.what == stuck.REBROADCAST:
            result.rebroadcast += self.replacer.rebroadcast(n)
        elif a.what == stuck.HOLD:
            result.held += self.replacer.hold(n)
        elif a.what == stuck.REPLACE:
            assert a.fees is not None
            back = IntentState.SENT if a.back_to_sent else None
            result.replaced += self.replacer.replace(n, n.kind, a.fees, back)
