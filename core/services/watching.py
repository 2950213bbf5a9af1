"""Watching by block: one pass looks up receipts for every attempt of every in-flight
intent (one JSON-RPC batch), then applies mined / confirmed / reverted / reorged."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.adapters.chain import Chain
from core.adapters.postgres.pipeline_store import PipelineStore
from core.adapters.postgres.tx_store import TxStore
from core.domain.states import IntentState

log = logging.getLogger(__name__)
I = IntentState


@dataclass
class WatchResult:
    block: int = 0
    watched: int = 0
    mined: int = 0
    confirmed: int = 0
    reverted: int = 0
    reorged: int = 0
    signals_done: int = 0


class Watcher:
    def __init__(
        self, store: PipelineStore, txs: TxStore, chain: Chain, confirmations: int
    ) -> None:
        self.store = store
        self.txs = txs
        self.chain = chain
        self.confirmations = confirmations

    def poll(self) -> WatchResult:
        result = WatchResult()
        flights = self.txs.in_flight()
        result.watched = len(flights)
        if flights:
            result.block = self.chain.block_number()
            receipts = self.chain.receipts([h for f in flights for h in f.hashes])
            for f in flights:
                mined = [receipts[h] for h in f.hashes if h in receipts]
                state = f.state
                if state in (I.SENT, I.HELD, I.CANCELLING) and mined:
                    r = mined[0]
                    if self.txs.transition(
                        f.intent_id,
                        state,
                        I.MINED,
                        tx_hash=r.tx_hash,
                        block_number=r.block_number,
                        block_hash=r.block_hash,
                    ):
                        result.mined += 1
                        for h in f.hashes:
                            self.txs.mark_attempt(h, "mined" if h == r.tx_hash else "replaced")
                        state = I.MINED
                if state is not I.MINED:
                    continue
                if not mined:
                    # Its block left the canonical chain: back to sent; send/watch go on.
                    if self.txs.transition(
                        f.intent_id, I.MINED, I.SENT, block_number=None, block_hash=None
                    ):
                        result.reorged += 1
                        log.warning("intent %s: receipt gone (reorg); back to sent", f.intent_id)
                    continue
                r = mined[0]
                if result.block - r.block_number + 1 < self.confirmations:
                    continue
                final = I.CONFIRMED if r.status == 1 else I.REVERTED
                if self.txs.transition(
                    f.intent_id,
                    I.MINED,
                    final,
                    block_number=r.block_number,
                    block_hash=r.block_hash,
                    reason=None if r.status == 1 else "reverted",
                ):
                    if final is I.CONFIRMED:
                        result.confirmed += 1
                    else:
                        result.reverted += 1
        result.signals_done = self.store.finish_signals()
        return result
