"""The validator fuzzed (hypothesis, 10,000 payloads in all): every generated valid payload
is accepted unchanged; every payload broken in one known way is rejected with that reason;
arbitrary JSON is either valid or rejected with a reason — never another exception."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from core.domain.errors import RejectedSignal
from core.domain.signals import MAX_USD_1E6, json_schema, parse_signal
from tests.support.payloads import broken, json_values, valid

REASONS = {
    "bad_payload", "bad_schema", "unknown_field", "missing_field", "bad_signal_id",
    "bad_asset", "bad_field", "out_of_range", "bad_address", "bad_checksum",
}  # fmt: skip
FAST = settings(max_examples=4000, deadline=None, suppress_health_check=list(HealthCheck))


@FAST
@given(valid())
def test_generated_valid_payloads_are_accepted_as_sent(p: dict[str, Any]) -> None:
    spec = parse_signal(p)
    assert spec.signal_id == p["signal_id"]
    assert spec.leader.lower() == p["leader"].lower()
    assert (spec.action.value, spec.side.value, spec.asset) == (p["action"], p["side"], p["asset"])
    assert (spec.collateral_usd_1e6, spec.leverage_x) == (p["collateral_usd_1e6"], p["leverage_x"])
    assert parse_signal(p) == spec  # same input, same output


@FAST
@given(broken())
def test_payloads_broken_one_way_are_rejected_with_that_reason(case: tuple[Any, str]) -> None:
    payload, reason = case
    with pytest.raises(RejectedSignal) as exc:
        parse_signal(payload)
    assert exc.value.reason == reason, (payload, exc.value.reason, exc.value.detail)


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(json_values)
def test_arbitrary_json_is_valid_or_rejected_never_a_crash(value: Any) -> None:
    try:
        parse_signal(value)
    except RejectedSignal as exc:
        reason = exc.reason
    else:
        reason = "accepted"
    assert reason in {*REASONS, "accepted"}


def test_huge_and_deeply_nested_payloads_are_rejected_quickly() -> None:
    base = {
        "signal_id": "x",
        "leader": "0x" + "ab" * 20,
        "action": "open",
        "asset": "BTC",
        "side": "long",
        "collateral_usd_1e6": 1,
        "leverage_x": 1,
    }
    ten_mb = "A" * (10 * 1024 * 1024)
    nested: Any = 1
    for _ in range(sys.getrecursionlimit() * 2):  # deeper than json.dumps could write
        nested = [nested]
    cases = {
        "bad_signal_id": {**base, "signal_id": ten_mb},
        "bad_asset": {**base, "asset": ten_mb},
        "unknown_field": {**base, ten_mb: 1},
        "bad_field": {**base, "leverage_x": nested},
        "out_of_range": {**base, "collateral_usd_1e6": 10**4000},
    }
    for reason, payload in cases.items():
        with pytest.raises(RejectedSignal) as exc:
            parse_signal(payload)
        assert exc.value.reason == reason
        assert len(exc.value.detail or "") <= 300  # the answer never echoes the junk
    assert (
        parse_signal({**base, "collateral_usd_1e6": MAX_USD_1E6}).collateral_usd_1e6 == MAX_USD_1E6
    )


def test_json_schema_matches_the_validator_fields() -> None:
    from core.domain.signals import FIELDS, REQUIRED

    schema = json_schema()
    assert set(schema["properties"]) == FIELDS
    assert set(schema["required"]) == REQUIRED
    json.dumps(schema)  # plain JSON
