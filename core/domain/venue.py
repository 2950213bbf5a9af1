"""A venue order and what the venue reports back, as plain records (the ABI that encodes
and decodes them lives in core/adapters/venue.py)."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.types import Action


@dataclass(frozen=True)
class OrderCall:
    action: Action
    asset: str
    is_long: bool
    collateral_usd_1e6: int
    leverage_x: int
    acceptable_price_usd_1e6: int
    client_order_id: bytes  # 32 bytes: the intent's idempotency key


@dataclass(frozen=True)
class Position:
    is_long: bool
    size_usd_1e6: int
    collateral_usd_1e6: int


@dataclass(frozen=True)
class OrderEvent:
    """An `Order` event: what the venue did (a close carries the position's side and size)."""

    trader: str
    asset: str
    client_order_id: str
    action: Action
    is_long: bool
    collateral_usd_1e6: int
    leverage_x: int
    size_usd_1e6: int
    price_usd_1e6: int
