"""The fast type-2 signer produces exactly eth-account's bytes, and falls back to
eth-account for any other shape."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from core.adapters.signers import eip1559
from core.adapters.signers.local import LocalSigner

KEYS = st.binary(min_size=32, max_size=32).filter(
    lambda b: 0 < int.from_bytes(b, "big") < 2**256 - 2**32 - 977
)
U256 = st.integers(min_value=0, max_value=2**256 - 1)
TXS = st.fixed_dictionaries(
    {
        "type": st.just(2),
        "chainId": st.integers(min_value=1, max_value=2**63),
        "nonce": st.integers(min_value=0, max_value=2**64 - 2),
        "maxPriorityFeePerGas": st.integers(min_value=0, max_value=2**128),
        "maxFeePerGas": st.integers(min_value=0, max_value=2**128),
        "gas": st.integers(min_value=21_000, max_value=2**63),
        "to": st.binary(min_size=20, max_size=20).map(to_checksum_address),
        "value": U256,
        "data": st.binary(max_size=600),
    }
)


@settings(max_examples=300, deadline=None)
@given(key=KEYS, tx=TXS)
def test_same_bytes_and_hash_as_eth_account(key: bytes, tx: dict[str, Any]) -> None:
    tx["maxFeePerGas"] = max(tx["maxFeePerGas"], tx["maxPriorityFeePerGas"])
    ours = LocalSigner.from_key(key).sign_transaction(tx)
    theirs = Account.from_key(key).sign_transaction(tx)
    assert ours.raw == bytes(theirs.raw_transaction)
    assert ours.tx_hash == "0x" + bytes(theirs.hash).hex()
    assert Account.recover_transaction(ours.raw) == Account.from_key(key).address


def test_other_shapes_go_through_eth_account() -> None:
    key = b"\x01" * 32
    legacy = {
        "nonce": 0,
        "gasPrice": 10**9,
        "gas": 21_000,
        "to": "0x" + "11" * 20,
        "value": 1,
        "data": b"",
        "chainId": 1,
    }
    assert not eip1559.fits(legacy)
    with_list = {
        "type": 2,
        "chainId": 1,
        "nonce": 0,
        "maxPriorityFeePerGas": 1,
        "maxFeePerGas": 2,
        "gas": 21_000,
        "to": "0x" + "11" * 20,
        "value": 0,
        "data": b"",
        "accessList": [{"address": "0x" + "22" * 20, "storageKeys": []}],
    }
    assert not eip1559.fits(with_list)
    for tx in (legacy, with_list):
        ours = LocalSigner.from_key(key).sign_transaction(tx)
        assert ours.raw == bytes(Account.from_key(key).sign_transaction(tx).raw_transaction)
