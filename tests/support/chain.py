"""Chain helpers for tests: funded fresh wallets, keystores, events on the venue."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import keccak

from core.adapters.chain import Chain

# anvil's first public dev account (published in Foundry's docs; a test key only).
ANVIL_KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ORDER_TOPIC = (
    "0x"
    + keccak(text="Order(address,bytes32,bytes32,uint8,bool,uint256,uint256,uint256,uint256)").hex()
)
PASSWORD = "test-password"


def new_keystore(directory: Path, chain: Chain, eth: int = 10) -> tuple[str, str]:
    """A fresh funded wallet in a light-KDF keystore: (signer ref, address)."""
    key = "0x" + secrets.token_hex(32)
    acct = Account.from_key(key)
    data = Account.encrypt(key, PASSWORD, kdf="pbkdf2", iterations=2)
    path = directory / f"{acct.address}.json"
    path.write_text(json.dumps(data))
    set_balance(chain, acct.address, eth * 10**18)
    return f"keystore:{path}", acct.address


def node_kind(chain: Chain) -> str:
    """`anvil` or `hardhat`: the node is asked who it is."""
    return "anvil" if "anvil" in str(chain.rpc("web3_clientVersion")).lower() else "hardhat"


def cheat(chain: Chain, method: str, *params: Any) -> Any:
    """A dev node's cheat code named as anvil names it (`anvil_dropTransaction`); on
    Hardhat's node the same call is `hardhat_…` (what each node lacks is this layer's
    business, never the product's)."""
    if method.startswith("anvil_") and node_kind(chain) == "hardhat":
        method = "hardhat_" + method.removeprefix("anvil_")
    return chain.rpc(method, *params)


def set_balance(chain: Chain, address: str, wei: int) -> None:
    cheat(chain, "anvil_setBalance", address, hex(wei))


def random_address() -> str:
    return Account.create().address


def orders_by_client_id(chain: Chain, venue: str) -> dict[str, int]:
    """Count of Order events per client order id on the whole chain."""
    logs = chain.rpc(
        "eth_getLogs",
        {"fromBlock": "0x0", "toBlock": "latest", "address": venue, "topics": [ORDER_TOPIC]},
    )
    counts: dict[str, int] = {}
    for log in logs:
        coid = log["topics"][3]
        counts[coid] = counts.get(coid, 0) + 1
    return counts


def orders_placed(s: Any) -> dict[str, int]:
    """Count of orders placed per idempotency key on the whole chain, read through the
    services' venue (the simple router's Order, GMX's OrderCreated carrying it)."""
    counts: dict[str, int] = {}
    for log in s.chain.logs([s.venue.orders_filter()], 0, s.chain.block_number()):
        placed = s.venue.order_placed(log)
        if placed is not None:
            counts[placed[1].lower()] = counts.get(placed[1].lower(), 0) + 1
    return counts


def spend_outside(chain: Chain, signer_ref: str, nonce: int, max_fee_gwei: int = 200) -> str:
    """Someone else holding the follower's key spends `nonce` on a 0-value self-send (out-
    bidding a pending order of ours at that nonce); returns its hash once the node took it."""
    from core.adapters.signers.factory import resolve

    signer = resolve(signer_ref)
    outside = signer.sign_transaction(
        {
            "type": 2,
            "chainId": 31337,
            "nonce": nonce,
            "to": signer.address,
            "value": 0,
            "data": b"",
            "gas": 21_000,
            "maxFeePerGas": max_fee_gwei * 10**9,
            "maxPriorityFeePerGas": max_fee_gwei * 10**9 // 4,
        }
    )
    (out,) = chain.send_raw([outside.raw])
    assert out.accepted, out
    return outside.tx_hash


def set_interval_mining(chain: Chain, ms: int) -> None:
    """Mine a block every `ms` (0: none). anvil's evm_setIntervalMining takes whole seconds,
    Hardhat's milliseconds."""
    if node_kind(chain) == "anvil":
        chain.rpc("evm_setIntervalMining", 0 if ms == 0 else max(1, ms // 1000))
    else:
        chain.rpc("evm_setIntervalMining", ms)
