"""A GMX subaccount's standing from the DataStore, with GMX's own keys (Keys.sol:
subaccountListKey, subaccountActionCountKey, maxAllowedSubaccountActionCountKey,
subaccountExpiresAtKey; SUBACCOUNT_ORDER_ACTION the only action type). The signature-based
relay routers write the same keys, so a subaccount approved by signature reads the same.
Pure calls and decoding; the chain adapter runs them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def create_params(call: bytes) -> dict[str, Any] | None:
    """The CreateOrderParams of either router's createOrder (ExchangeRouter's, or the
    SubaccountRouter's for an account)."""
    return codec.decode_create_order(call) or codec.decode_subaccount_create_order(call)


def is_subaccount_call(calldata: bytes) -> bool:
    """Whether an order's calldata is for the SubaccountRouter: a multicall holding its
    createOrder(account, …) or a cancelOrder (the ExchangeRouter's cancel is a bare call,
    never in a multicall, so the two never look alike). Replacements and re-signs send the
    same calldata to the same router by this rule."""
    calls = codec.decode_multicall(calldata) or []
    cancel = codec.selector(codec.SUBACCOUNT_ROUTER, "cancelOrder")
    return any(
        c[:4] == cancel or codec.decode_subaccount_create_order(c) is not None for c in calls
    )


def setup_calls(subaccount: str, max_actions: int, expires_at: int) -> bytes:
    """The wallet's one-time SubaccountRouter multicall: add the subaccount, its lifetime
    budget of order actions, its expiry (GMX treats an unset expiry as expired)."""
    sub = checksum(subaccount)
    return codec.multicall(
        [
            codec.subaccount_call("addSubaccount", sub),
            codec.subaccount_call(
                "setMaxAllowedSubaccountActionCount", sub, ORDER_ACTION, max_actions
            ),
            codec.subaccount_call("setSubaccountExpiresAt", sub, ORDER_ACTION, expires_at),
        ]
    )


def revoke_call(subaccount: str) -> bytes:
    """The wallet's `removeSubaccount`: the key can act for it no more, at once."""
    return codec.subaccount_call("removeSubaccount", checksum(subaccount))
