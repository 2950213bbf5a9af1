"""Dev-chain venue administration: deploy the recorder router, set its prices, read a
position (the demo, the drills, the tests and `copytrade venue`; not the order path)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from eth_utils import to_checksum_address

from core.adapters.chain import Chain
from core.adapters.venue import artifact, decode_position, encode_positions, encode_set_price
from core.domain import fees
from core.domain.attempts import TxSpec
from core.domain.chain import Receipt
from core.domain.errors import ChainError
from core.domain.venue import Position
from core.ports import Signer


def send_and_wait(
    chain: Chain,
    signer: Signer,
    chain_id: int,
    to: str | None,
    data: bytes,
    gas: int = 3_000_000,
    timeout_s: float = 30,
) -> tuple[Receipt, dict[str, str]]:
    """Sign, send and wait for one admin transaction (not the order path)."""
    base, rewards = chain.fee_history()
    fee = fees.suggest(base, rewards)
    nonce = chain.nonce(signer.address, "pending")
    signed = signer.sign_transaction(TxSpec(chain_id, nonce, fee, to or None, data, gas).as_dict())
    (out,) = chain.send_raw([signed.raw])
    if not out.accepted:
        raise ChainError(f"admin transaction refused: {out.message}")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = chain.receipts([signed.tx_hash])
        if found:
            receipt = found[signed.tx_hash]
            if receipt.status != 1:
                raise ChainError(f"admin transaction {signed.tx_hash} reverted")
            raw = chain.rpc("eth_getTransactionReceipt", signed.tx_hash)
            return receipt, raw
        time.sleep(0.05)
    raise ChainError(f"admin transaction {signed.tx_hash} not mined within {timeout_s}s")


def send_many_and_wait(
    chain: Chain,
    signer: Signer,
    chain_id: int,
    calls: Sequence[tuple[str, bytes]],
    gas: int = 3_000_000,
    timeout_s: float = 30,
) -> list[Receipt]:
    """Sign `calls` (to, data) at consecutive nonces, send them in one broadcast and wait for
    every receipt (a dev keeper's round; not the order path). A reverted one is returned
    with its status, not raised: one bad call does not fail the others."""
    if not calls:
        return []
    base, rewards = chain.fee_history()
    fee = fees.suggest(base, rewards)
    first = chain.nonce(signer.address, "pending")
    signed = [
        signer.sign_transaction(TxSpec(chain_id, first + i, fee, to, data, gas).as_dict())
        for i, (to, data) in enumerate(calls)
    ]
    outcomes = chain.send_raw([s.raw for s in signed])
    refused = [o.message for o in outcomes if not o.accepted]
    if refused:
        raise ChainError(f"{len(refused)} admin transaction(s) refused: {refused[0]}")
    hashes = [s.tx_hash for s in signed]
    found: dict[str, Receipt] = {}
    deadline = time.monotonic() + timeout_s
    while len(found) < len(hashes):
        if time.monotonic() >= deadline:
            raise ChainError(
                f"{len(hashes) - len(found)} of {len(hashes)} admin transactions "
                f"not mined within {timeout_s}s"
            )
        found.update(chain.receipts([h for h in hashes if h not in found]))
        time.sleep(0.05)
    return [found[h] for h in hashes]


def deploy(
    chain: Chain, signer: Signer, chain_id: int, prices: Mapping[str, int] | None = None
) -> str:
    """Deploy the router; returns its address. Optional initial prices (micro-USD)."""
    code = bytes.fromhex(artifact()["bytecode"][2:])
    _, raw = send_and_wait(chain, signer, chain_id, None, code)
    address = str(raw["contractAddress"])

    address = to_checksum_address(address)
    for asset, price in (prices or {}).items():
        set_price(chain, signer, chain_id, address, asset, price)
    return address


def set_price(
    chain: Chain, signer: Signer, chain_id: int, venue: str, asset: str, price_usd_1e6: int
) -> None:
    send_and_wait(
        chain, signer, chain_id, venue, encode_set_price(asset, price_usd_1e6), gas=100_000
    )


def position(chain: Chain, venue: str, trader: str, asset: str) -> Position:
    return decode_position(chain.call(venue, encode_positions(trader, asset)))
