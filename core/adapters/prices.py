"""Reference prices where the venue has no on-chain price (the `PriceSource` port): GMX v2's
reader takes prices as input, so the price a follower's acceptable price is built from
comes from the signal (the leader's fill) or from here.

- `FixturePrices`: fixed prices (a local stack, the demo, tests).
- `OracleKeeperPrices`: GMX's oracle keeper tickers (`GET {url}/prices/tickers`, e.g.
  https://arbitrum-api.gmxinfra.io), the prices GMX's own interface shows: per token unit
  with 30 decimals, min and max; we take the midpoint.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import requests

from core.domain.errors import TransientError


def parse_prices(text: str) -> dict[str, int]:
    """COPYTRADE_GMX_PRICES: a JSON object of asset -> micro-USD integer."""
    if not text.strip():
        return {}
    raw = json.loads(text)
    if not isinstance(raw, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in raw.values()
    ):
        raise ValueError('prices: a JSON object of asset -> micro-USD integer, e.g. {"ETH": 2e9}')
    return {str(k): int(v) for k, v in raw.items()}


class FixturePrices:
    def __init__(self, prices: Mapping[str, int]) -> None:
        self.prices = dict(prices)

    def price_usd_1e6(self, asset: str) -> int | None:
        return self.prices.get(asset)


def ticker_price_usd_1e6(ticker: Mapping[str, Any], decimals: int) -> int:
    """A tickers row (min/max per token unit, 30 decimals) as micro-USD per token."""
    mid = (int(ticker["minPrice"]) + int(ticker["maxPrice"])) // 2
    return int(mid // 10 ** (24 - decimals) if decimals <= 24 else mid * 10 ** (decimals - 24))


class OracleKeeperPrices:
    """Tickers read at most every `ttl_s` (one request serves every follower of a signal)."""

    def __init__(
        self, url: str, decimals: Mapping[str, int], timeout_s: float = 3.0, ttl_s: float = 1.0
    ) -> None:
        self.url = url.rstrip("/") + "/prices/tickers"
        self.decimals = dict(decimals)
        self.timeout_s = timeout_s
        self.ttl_s = ttl_s
        self._at = 0.0
        self._prices: dict[str, int] = {}

    def _load(self) -> None:
        try:
            reply = requests.get(self.url, timeout=self.timeout_s)
            reply.raise_for_status()
            rows = reply.json()
        except (requests.RequestException, ValueError) as exc:
            raise TransientError(f"oracle keeper tickers {self.url}: {exc}") from exc
        prices: dict[str, int] = {}
        for row in rows:
            symbol = str(row.get("tokenSymbol", ""))
            if symbol in self.decimals:
                prices[symbol] = ticker_price_usd_1e6(row, self.decimals[symbol])
        self._prices, self._at = prices, time.monotonic()

    def price_usd_1e6(self, asset: str) -> int | None:
        if time.monotonic() - self._at > self.ttl_s:
            self._load()
        return self._prices.get(asset)
