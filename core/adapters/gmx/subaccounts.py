"""A GMX subaccount's standing from the DataStore, with GMX's own keys (Keys.sol:
subaccountListKey, subaccountActionCountKey, maxAllowedSubaccountActionCountKey,
subaccountExpiresAtKey; SUBACCOUNT_ORDER_ACTION the only action type). The signature-based
relay routers write the same keys, so a subaccount approved by signature reads the same.
Pure calls and decoding; the chain adapter runs them."""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import decode, encode
from eth_utils import keccak
from eth_utils import to_checksum_address as checksum

from core.adapters.gmx import codec
from core.domain.subaccounts import SubaccountTerms
from core.domain.venue import Call

ORDER_ACTION = codec.key_of("SUBACCOUNT_ORDER_ACTION")


def list_key(account: str) -> bytes:
    """subaccountListKey(account): the wallet's set of subaccounts."""
    return bytes(
        keccak(encode(["bytes32", "address"], [codec.key_of("SUBACCOUNT_LIST"), checksum(account)]))
    )


def action_key(name: str, account: str, subaccount: str) -> bytes:
    """keccak256(abi.encode(NAME, account, subaccount, SUBACCOUNT_ORDER_ACTION))."""
    types = ["bytes32", "address", "address", "bytes32"]
    values = [codec.key_of(name), checksum(account), checksum(subaccount), ORDER_ACTION]
    return bytes(keccak(encode(types, values)))


def terms_calls(data_store: str, account: str, subaccount: str) -> list[Call]:
    """Authorised, actions used, the budget and the expiry: four reads, one batch."""
    contains = codec.selector("DataStore", "containsAddress") + encode(
        ["bytes32", "address"], [list_key(account), checksum(subaccount)]
    )
    return [
        Call(data_store, contains),
        *(
            Call(data_store, codec.get_uint(action_key(name, account, subaccount)))
            for name in (
                "SUBACCOUNT_ACTION_COUNT",
                "MAX_ALLOWED_SUBACCOUNT_ACTION_COUNT",
                "SUBACCOUNT_EXPIRES_AT",
            )
        ),
    ]


def decode_terms(results: Sequence[bytes]) -> SubaccountTerms:
    contains, used, most, expires = results
    (authorized,) = decode(["bool"], contains)
    return SubaccountTerms(
        bool(authorized),
        codec.decode_uint(used),
        codec.decode_uint(most),
        codec.decode_uint(expires),
    )
