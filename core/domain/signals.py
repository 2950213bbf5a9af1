"""The producers' signal schema (version 1), validated without I/O.

One validator for the Python API, the CLI and the `copytrade.submit_signal` task. A bad
payload raises RejectedSignal with a machine-readable reason; nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

from core.domain.errors import RejectedSignal
from core.domain.leader_fills import CAUSES, FRACTION_ONE
from core.domain.types import Action, Side

SCHEMA_VERSION = 1
MAX_LEVERAGE_X = 10_000
MAX_USD_1E6 = 10**18  # a trillion USD: anything larger is a unit mistake
# \Z, not $: `$` also matches before a trailing newline ("abc\n" would pass).
SIGNAL_ID_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9:_.\-]{0,127}\Z")
ASSET_RE = re.compile(r"\A[A-Z][A-Z0-9]{0,15}\Z")
FIELDS = {
    "schema",
    "signal_id",
    "leader",
    "action",
    "asset",
    "side",
    "collateral_usd_1e6",
    "leverage_x",
    "price_usd_1e6",
    "issued_at",
    "fraction_1e18",
    "cause",
    "leader_equity_usd_1e6",
}
REQUIRED = {"signal_id", "leader", "action", "asset", "side", "collateral_usd_1e6", "leverage_x"}


@dataclass(frozen=True)
class SignalSpec:
    signal_id: str
    leader: str
    action: Action
    asset: str
    side: Side
    collateral_usd_1e6: int
    leverage_x: int
    price_usd_1e6: int | None = None
    issued_at: int | None = None  # unix seconds at the producer, when it knows
    # A decrease in proportion: the fraction (18 decimals) of the leader's position it took;
    # each follower decreases its own position by the same fraction (docs/risk.md).
    fraction_1e18: int | None = None
    cause: str | None = None  # why the leader's position moved, when not its own order
    # The leader's equity on its venue, from a producer whose leader is not on chain: what
    # an `equity-ratio` follower sizes against (docs/followers.md).
    leader_equity_usd_1e6: int | None = None

    def content_hash(self) -> str:
        """Hash of what the signal orders (not of when it was issued): the same signal_id
        with a different hash is a conflict. Fields added after schema 1 count only when
        set, so a signal's hash is what it was before they existed."""
        body = asdict(self)
        body.pop("issued_at")
        for later in ("fraction_1e18", "cause", "leader_equity_usd_1e6"):
            if body[later] is None:
                body.pop(later)
        body["action"], body["side"] = self.action.value, self.side.value
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def payload(self) -> dict[str, Any]:
        body = asdict(self)
        body["action"], body["side"], body["schema"] = self.action.value, self.side.value, 1
        return {k: v for k, v in body.items() if v is not None}


def _int(payload: dict[str, Any], name: str, low: int, high: int) -> int:
    value = payload[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise RejectedSignal("bad_field", f"{name} must be an integer")
    if not low <= value <= high:
        raise RejectedSignal("out_of_range", f"{name} must be in [{low}, {high}]")
    return value


def _enum(payload: dict[str, Any], name: str, kind: type[Action] | type[Side]) -> Any:
    value = payload[name]
    try:
        return kind(value)
    except ValueError:
        allowed = "|".join(m.value for m in kind)
        raise RejectedSignal("bad_field", f"{name} must be one of {allowed}") from None


def parse_address(value: object, name: str = "leader") -> str:
    """A 0x address, all lower case or correctly checksummed; returned checksummed."""
    if not isinstance(value, str) or not value.startswith("0x") or not is_hex_address(value):
        raise RejectedSignal("bad_address", f"{name} is not a 0x-prefixed 20-byte address")
    if value != value.lower() and not is_checksum_address(value):
        raise RejectedSignal("bad_checksum", f"{name} has a wrong EIP-55 checksum")
    return str(to_checksum_address(value))


def parse_signal(payload: object) -> SignalSpec:
    """Validate a producer payload (schema 1) into a SignalSpec."""
    if not isinstance(payload, dict):
        raise RejectedSignal("bad_payload", "payload must be a JSON object")
    version = payload.get("schema", SCHEMA_VERSION)
    if type(version) is not int or version != SCHEMA_VERSION:  # not True, 1.0 or "1"
        raise RejectedSignal("bad_schema", f"schema must be the integer {SCHEMA_VERSION}")
    extra = set(payload) - FIELDS
    if extra:
        # repr: a junk key (a newline, 10 MB) never reaches a log line as it is.
        raise RejectedSignal("unknown_field", ", ".join(sorted(repr(k)[:40] for k in extra))[:200])
    missing = REQUIRED - set(payload)
    if missing:
        raise RejectedSignal("missing_field", ", ".join(sorted(missing)))
    signal_id = payload["signal_id"]
    if not isinstance(signal_id, str) or not SIGNAL_ID_RE.match(signal_id):
        raise RejectedSignal("bad_signal_id", "1-128 chars of A-Z a-z 0-9 : _ . -")
    asset = payload["asset"]
    if not isinstance(asset, str) or not ASSET_RE.match(asset):
        raise RejectedSignal("bad_asset", "asset must be an upper-case ticker like BTC")
    action = _enum(payload, "action", Action)
    fraction = payload.get("fraction_1e18")
    if fraction is not None:
        if action is not Action.DECREASE:
            raise RejectedSignal("bad_field", "fraction_1e18 is for a decrease only")
        fraction = _int(payload, "fraction_1e18", 1, FRACTION_ONE)
    cause = payload.get("cause")
    if cause is not None and cause not in CAUSES:
        raise RejectedSignal("bad_field", f"cause must be one of {'|'.join(CAUSES)}")
    # A close, or a decrease in proportion, says nothing of collateral.
    collateral_low = 0 if action is Action.CLOSE or fraction is not None else 1
    price = payload.get("price_usd_1e6")
    issued = payload.get("issued_at")
    equity = payload.get("leader_equity_usd_1e6")
    return SignalSpec(
        signal_id=signal_id,
        leader=parse_address(payload["leader"]),
        action=action,
        asset=asset,
        side=_enum(payload, "side", Side),
        collateral_usd_1e6=_int(payload, "collateral_usd_1e6", collateral_low, MAX_USD_1E6),
        leverage_x=_int(payload, "leverage_x", 1, MAX_LEVERAGE_X),
        price_usd_1e6=None if price is None else _int(payload, "price_usd_1e6", 1, MAX_USD_1E6),
        issued_at=None if issued is None else _int(payload, "issued_at", 0, 2**40),
        fraction_1e18=fraction,
        cause=cause,
        leader_equity_usd_1e6=None
        if equity is None
        else _int(payload, "leader_equity_usd_1e6", 1, MAX_USD_1E6),
    )


def idempotency_key(signal_id: str, follower_id: int, leg: int = 0) -> str:
    """hash(signal_id, follower, leg): unique per order; also the venue's client order id."""
    digest = hashlib.sha256(f"{signal_id}|{follower_id}|{leg}".encode()).hexdigest()
    return "0x" + digest


def json_schema() -> dict[str, Any]:
    """The payload's JSON Schema (schema version 1), built from the same constants the
    validator uses (`copytrade signal schema` prints it). The validator stays the authority:
    it also checks EIP-55 checksums, that a close (or a decrease in proportion) may carry zero
    collateral and that only a decrease carries fraction_1e18."""
    usd = {"type": "integer", "minimum": 0, "maximum": MAX_USD_1E6}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://copytrade.invalid/signal/v{SCHEMA_VERSION}.json",
        "title": f"copytrade signal, schema {SCHEMA_VERSION}",
        "type": "object",
        "additionalProperties": False,
        "required": sorted(REQUIRED),
        "properties": {
            "schema": {"const": SCHEMA_VERSION},
            "signal_id": {"type": "string", "pattern": SIGNAL_ID_RE.pattern[2:-2].join("^$")},
            "leader": {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"},
            "action": {"enum": [a.value for a in Action]},
            "asset": {"type": "string", "pattern": ASSET_RE.pattern[2:-2].join("^$")},
            "side": {"enum": [s.value for s in Side]},
            "collateral_usd_1e6": usd,
            "leverage_x": {"type": "integer", "minimum": 1, "maximum": MAX_LEVERAGE_X},
            "price_usd_1e6": {**usd, "minimum": 1},
            "issued_at": {"type": "integer", "minimum": 0, "maximum": 2**40},
            "fraction_1e18": {"type": "integer", "minimum": 1, "maximum": FRACTION_ONE},
            "cause": {"enum": list(CAUSES)},
            "leader_equity_usd_1e6": {**usd, "minimum": 1},
        },
    }
