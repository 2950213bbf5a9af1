"""A GMX v2 deployment as copytrade uses it: its contracts' addresses and the markets (asset
-> market token, index decimals), from the pinned SDK or the COPYTRADE_GMX_* settings
(core/adapters/gmx/configure.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.adapters.gmx import sdk
from core.domain.errors import ConfigError


@dataclass(frozen=True)
class GmxMarket:
    market: str  # the market token's address
    index_decimals: int  # the index token's decimals (ETH 18, BTC 8)

    def __post_init__(self) -> None:
        if not 0 <= self.index_decimals <= 24:
            # Above 24 a micro-USD price is not a whole number of GMX price units.
            raise ConfigError(f"market {self.market}: index decimals {self.index_decimals}")

    @property
    def price_unit(self) -> int:
        """GMX price units in one micro-USD per whole index token."""
        return int(10 ** (24 - self.index_decimals))


@dataclass(frozen=True)
class GmxConfig:
    exchange_router: str
    router: str  # SyntheticsRouter: the spender the follower approves for USDC
    order_vault: str
    reader: str
    data_store: str
    event_emitter: str
    usdc: str
    usdc_decimals: int
    markets: Mapping[str, GmxMarket] = field(default_factory=dict)  # asset -> market
    subaccount_router: str = ""  # where a subaccount's orders go ("": none configured)

    @classmethod
    def for_chain(cls, chain_id: int, markets: Mapping[str, GmxMarket]) -> GmxConfig:
        """A deployment's addresses from the pinned SDK (42161 Arbitrum, 43114 Avalanche)."""
        a = sdk.addresses(chain_id)
        usdc = sdk.tokens(chain_id)["USDC"]
        return cls(
            exchange_router=a["ExchangeRouter"],
            router=a["SyntheticsRouter"],
            order_vault=a["OrderVault"],
            reader=a["SyntheticsReader"],
            data_store=a["DataStore"],
            event_emitter=a["EventEmitter"],
            usdc=usdc.address,
            usdc_decimals=usdc.decimals,
            markets=dict(markets),
            subaccount_router=a.get("SubaccountRouter", ""),
        )
