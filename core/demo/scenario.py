"""The demo's cast: follower policies that show every outcome, and the leader's signals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    name: str
    sizing: str = "ratio:1"
    max_leverage: int = 5
    max_position_usd: str = "1000"
    assets: str = "BTC,ETH"
    cohort: bool = True
    paused: bool = False
    slippage_bps: int = 50
    # GMX: the key the demo holds is a subaccount of a wallet it never holds the key of
    # (the wallet's one-time calls sent at set-up); on the simple venue a plain copier.
    subaccount: bool = False


# Under the canary profile (10 USD per order, 2x, BTC/ETH) and the leader's first order,
# open BTC long 5 USD x 2 = 10 USD notional, each shows one outcome.
PERSONAS = (
    Persona("copier"),
    Persona("subaccount", subaccount=True),  # a copier trading through a GMX subaccount
    Persona("half-size", sizing="ratio:0.5"),
    Persona("fixed-4usd", sizing="fixed-notional:4"),
    Persona("at-limit", max_position_usd="10"),  # exactly at the limit: passes
    Persona("one-unit-over", max_position_usd="9.999999"),  # one micro-USD short: rejected
    Persona("low-leverage", max_leverage=1),  # 2x > 1x: rejected
    Persona("eth-only", assets="ETH"),  # BTC not allowed
    Persona("paused", paused=True),
    Persona("outside-cohort", cohort=False),  # canary: runs DRY
    Persona("oversized", sizing="ratio:1.5"),  # 15 USD > the canary's 10 USD cap
    # On the GMX venue the demo's keeper fills 0.3 % worse than the reference price: a
    # follower tolerating 0.1 % is cancelled by the venue (OrderNotFulfillable…).
    Persona("tight-slippage", slippage_bps=10),
)
KEEPER_MOVE_BPS = 30

# (action, asset, side, collateral USD, leverage, price USD)
SIGNALS = (
    ("open", "BTC", "long", "5", 2, "100000"),
    ("open", "ETH", "long", "2", 2, "3000"),
    ("close", "BTC", "long", "0", 2, "100000"),
    ("close", "ETH", "long", "0", 2, "3000"),
)
PRICES = {"BTC": "100000", "ETH": "3000"}
