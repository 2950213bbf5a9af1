"""The venue's terms (its minimums, the gas its keeper is paid for), read from the venue and
kept for a while: they change by governance, not per block."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from core.domain.venue import Call, VenueTerms
from core.ports import Venue


class TermsChain(Protocol):
    def calls(self, calls: Sequence[Call]) -> list[bytes]: ...


class VenueTermsCache:
    """`get()`: the venue's terms, read again once they are `ttl_s` old (one batch of
    eth_calls; a venue with fixed terms reads nothing). A failed read raises (ChainError,
    TransientError): an order is never sized or priced on terms not read."""

    def __init__(
        self,
        venue: Venue,
        chain: TermsChain,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.venue, self.chain, self.ttl_s, self.clock = venue, chain, ttl_s, clock
        self._lock = threading.Lock()
        self._terms: VenueTerms | None = None
        self._read_at = 0.0

    def get(self) -> VenueTerms:
        with self._lock:
            now = self.clock()
            if self._terms is None or now - self._read_at >= self.ttl_s:
                calls = self.venue.terms_calls()
                self._terms = self.venue.decode_terms(self.chain.calls(calls) if calls else [])
                self._read_at = now
            return self._terms
