"""GMX v2's events: the EventEmitter's `EventLog` / `EventLog1` / `EventLog2` and the
EventLogData they carry, and the custom errors a cancelled order's `reasonBytes` holds.

One emitter carries every GMX event. Its topics: [0] the event's signature, [1]
`eventNameHash` (an indexed string: keccak(eventName)), then `topic1` / `topic2`
(EventLog1 / EventLog2). `eventName` itself is in the data, with the sender and the
EventLogData (contracts/event/EventUtils.sol). Pure functions; ABIs from sdk.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import (
    collapse_if_tuple,
    event_abi_to_log_topic,
    function_abi_to_4byte_selector,
    keccak,
)
from eth_utils import to_checksum_address as checksum

from core.adapters.gmx import sdk

EMITTER = "EventEmitter"
KINDS = ("EventLog", "EventLog1", "EventLog2")  # 0, 1 and 2 topics after the name's hash
GROUPS = (
    "addressItems",
    "uintItems",
    "intItems",
    "boolItems",
    "bytes32Items",
    "bytesItems",
    "stringItems",
)
ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)
MAX_REASON = 200


@dataclass(frozen=True)
class GmxEvent:
    """One emitter log. `items`: every EventLogData group flattened by item name (GMX's
    emitters do not reuse a name across groups within one event); arrayItems as lists.
    Addresses are EIP-55, bytes32 values 0x lower-case hex, bytes stay bytes."""

    name: str
    topic1: str | None
    topic2: str | None
    items: dict[str, Any] = field(default_factory=dict)


def event_name_hash(name: str) -> str:
    """`eventNameHash`, the emitter's topic 1: keccak256 of the event's name."""
    return "0x" + keccak(text=name).hex()


@lru_cache(maxsize=4)
def event_topic(kind: str) -> str:
    """Topic 0 of `EventLog`, `EventLog1` or `EventLog2`, from the SDK's ABI."""
    abi = sdk.entry(EMITTER, kind, "event")
    return "0x" + bytes(event_abi_to_log_topic(abi)).hex()  # type: ignore[arg-type]


@lru_cache(maxsize=4)
def _data_types(kind: str) -> tuple[str, ...]:
    inputs = sdk.entry(EMITTER, kind, "event")["inputs"]
    return tuple(collapse_if_tuple(i) for i in inputs if not i["indexed"])


def _value(group: str, v: Any) -> Any:
    if group == "addressItems":
        return checksum(v)
    if group == "bytes32Items":
        return "0x" + bytes(v).hex()
    return v


def flatten(event_data: Sequence[Any]) -> dict[str, Any]:
    """EventLogData as eth_abi decodes it (seven (items, arrayItems) pairs) -> by name."""
    items: dict[str, Any] = {}
    for group, (singles, arrays) in zip(GROUPS, event_data, strict=True):
        for key, v in singles:
            items[key] = _value(group, v)
        for key, vs in arrays:
            items[key] = [_value(group, v) for v in vs]
    return items


def decode_event(topics: Sequence[str], data: bytes) -> GmxEvent | None:
    """The emitter event in a log (its topics and data); None when the log is not one.
    The caller checks the log's address (the emitter's)."""
    if not topics:
        return None
    t = [x.lower() for x in topics]
    kind = next((k for k in KINDS if event_topic(k) == t[0]), None)
    if kind is None or len(t) != 2 + KINDS.index(kind):
        return None
    try:
        _sender, name, event_data = decode(list(_data_types(kind)), data)
    except (DecodingError, ValueError, OverflowError):
        return None
    if event_name_hash(name) != t[1]:
        return None  # not what GMX's emitter writes: the hash is of the name in the data
    return GmxEvent(
        name,
        t[2] if len(t) > 2 else None,
        t[3] if len(t) > 3 else None,
        flatten(event_data),
    )


@lru_cache(maxsize=1)
def _errors() -> dict[bytes, dict[str, Any]]:
    return {
        bytes(function_abi_to_4byte_selector(e)): e  # type: ignore[arg-type]
        for e in sdk.abi("CustomErrors")
        if e.get("type") == "error"
    }


def decode_error(data: bytes) -> str | None:
    """Revert data -> `Name(arg=value, …)` for a GMX custom error (CustomErrors ABI), the
    message of an Error(string), `Panic(code)`; None when it is none of these."""
    head, body = bytes(data[:4]), bytes(data[4:])
    try:
        if head == ERROR_STRING:
            (message,) = decode(["string"], body)
            return str(message)[:MAX_REASON]
        if head == PANIC:
            (code,) = decode(["uint256"], body)
            return f"Panic({code:#x})"
        abi = _errors().get(head)
        if abi is None:
            return None
        values = decode([collapse_if_tuple(i) for i in abi["inputs"]], body)
    except (DecodingError, ValueError, OverflowError):
        return None
    names = [i["name"] or f"_{n}" for n, i in enumerate(abi["inputs"])]
    args = ", ".join(f"{k}={_short(v)}" for k, v in zip(names, values, strict=True))
    return f"{abi['name']}({args})"[:MAX_REASON]


def _short(v: Any) -> str:
    return "0x" + v.hex() if isinstance(v, bytes) else str(v)
