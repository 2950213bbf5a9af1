"""Every transaction the system signs, built in one place: an order (its first attempt
and every replacement or re-sign: the same calldata to the venue), the no-op cancel (a
0-value self-send at the same nonce that gives the nonce back) and the dev venue's admin
transactions. Type 2 (EIP-1559) only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.domain.fees import Fees

CANCEL_GAS = 21_000  # a plain value transfer
KINDS = ("order", "cancel")


@dataclass(frozen=True)
class TxSpec:
    """What to sign: the chain, the nonce, the fees, and where it goes (`to` None: a
    contract creation — the dev venue's deployment)."""

    chain_id: int
    nonce: int
    fees: Fees
    to: str | None
    data: bytes
    gas: int
    value: int = 0  # wei sent along (a GMX order's execution fee; 0 for everything else)

    def as_dict(self) -> dict[str, Any]:
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": self.nonce,
            "value": self.value,
            "data": self.data,
            "gas": self.gas,
            "maxFeePerGas": self.fees.max_fee_per_gas,
            "maxPriorityFeePerGas": self.fees.max_priority_fee_per_gas,
        }
        if self.to is not None:
            tx["to"] = self.to
        return tx


def order(
    chain_id: int, nonce: int, fees: Fees, venue: str, calldata: bytes, gas: int, value: int = 0
) -> TxSpec:
    """An order to the venue: first attempt, replacement (same nonce, higher fees) or
    re-sign (next nonce) alike — the same calldata and the same value (derived from the
    calldata by the venue: `Venue.order_value`)."""
    return TxSpec(chain_id, nonce, fees, venue, calldata, gas, value)


def noop(chain_id: int, nonce: int, fees: Fees, signer_address: str) -> TxSpec:
    """The no-op cancel: nothing but the nonce (and its gas) is spent."""
    return TxSpec(chain_id, nonce, fees, signer_address, b"", CANCEL_GAS)


APPROVE_GAS = 100_000  # an ERC20 approve (≈ 46k; the rest is headroom)


def wallet_call(chain_id: int, nonce: int, fees: Fees, to: str, calldata: bytes) -> TxSpec:
    """A one-time call from the follower's wallet outside any order (the collateral
    token's approval of the venue): no value, its own gas."""
    return TxSpec(chain_id, nonce, fees, to, calldata, APPROVE_GAS)


def attempt(
    kind: str,
    chain_id: int,
    nonce: int,
    fees: Fees,
    venue: str,
    calldata: bytes,
    gas: int,
    signer_address: str,
    value: int = 0,
) -> TxSpec:
    """The transaction of an attempt of `kind` (order | cancel)."""
    if kind == "cancel":
        return noop(chain_id, nonce, fees, signer_address)
    if kind != "order":
        raise ValueError(f"unknown attempt kind {kind!r}; kinds: {', '.join(KINDS)}")
    return order(chain_id, nonce, fees, venue, calldata, gas, value)
