"""The local GMX venue (contracts/LocalGmx.sol) speaks GMX v2's ABI: every function copytrade
calls, every event and error it decodes has the same selector / topic, the same parameter
and component types and names, and the same indexed flags as the pinned @gmx-io/sdk ABIs
(contracts/gmx/sdk.json). Reads the committed artifacts; no node needed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from tests.support.abi import signature, type_string

ROOT = Path(__file__).resolve().parents[2]
SDK = json.loads((ROOT / "contracts" / "gmx" / "sdk.json").read_text())["abis"]
BUILD = ROOT / "contracts" / "build"
SOURCES = [ROOT / "contracts" / "LocalGmx.sol", ROOT / "contracts" / "LocalGmxSubaccount.sol"]
DECLARED_ERROR = re.compile(r"^error (\w+)\(([^)]*)\);", re.MULTILINE)

# (SDK ABI, local artifact, entry type, name): what copytrade calls or decodes.
CHECKED = [
    ("ExchangeRouter", "GmxExchangeRouter", "function", "multicall"),
    ("ExchangeRouter", "GmxExchangeRouter", "function", "sendWnt"),
    ("ExchangeRouter", "GmxExchangeRouter", "function", "sendTokens"),
    ("ExchangeRouter", "GmxExchangeRouter", "function", "createOrder"),
    ("ExchangeRouter", "GmxExchangeRouter", "function", "cancelOrder"),
    ("SyntheticsReader", "GmxReader", "function", "getPosition"),
    ("SyntheticsReader", "GmxReader", "function", "getAccountPositions"),
    ("SyntheticsReader", "GmxReader", "function", "getOrder"),
    ("DataStore", "GmxDataStore", "function", "getUint"),
    ("DataStore", "GmxDataStore", "function", "getBool"),
    ("DataStore", "GmxDataStore", "function", "getBytes32"),
    ("DataStore", "GmxDataStore", "function", "containsAddress"),
    ("DataStore", "GmxDataStore", "function", "getAddressCount"),
    ("DataStore", "GmxDataStore", "function", "getAddressValuesAt"),
    ("DataStore", "GmxDataStore", "function", "incrementUint"),
    ("DataStore", "GmxDataStore", "function", "addAddress"),
    # (removeAddress: GMX overloads it; the local one is removeAddress(bytes32,address))
    *(
        ("SubaccountRouter", "GmxSubaccountRouter", "function", name)
        for name in (
            "multicall",
            "sendWnt",
            "addSubaccount",
            "removeSubaccount",
            "setMaxAllowedSubaccountActionCount",
            "setSubaccountExpiresAt",
            "setSubaccountAutoTopUpAmount",
            "createOrder",
            "cancelOrder",
        )
    ),
    ("EventEmitter", "GmxEventEmitter", "event", "EventLog1"),
    ("EventEmitter", "GmxEventEmitter", "event", "EventLog2"),
]
CHECKED_ERRORS = [
    "RequestNotYetCancellable",
    "OrderNotFulfillableAtAcceptablePrice",
    "SubaccountNotAuthorized",
    "SubaccountApprovalExpired",
    "MaxSubaccountActionCountExceeded",
    "InvalidReceiverForSubaccountOrder",
    "InvalidCancellationReceiverForSubaccountOrder",
    "EmptyOrder",
]
# Errors of ours that GMX does not have (LocalGmx.sol says why).
LOCAL_ONLY_ERRORS = {"CollateralAmountMismatch"}


def local_abi(name: str) -> list[dict[str, Any]]:
    abi: list[dict[str, Any]] = json.loads((BUILD / f"{name}.json").read_text())["abi"]
    return abi


def entry(abi: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [e for e in abi if e.get("type") == kind and e.get("name") == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} entries"
    return found[0]


def shape(params: list[dict[str, Any]]) -> list[Any]:
    """Names, types and indexed flags, recursively; internalType (Solidity's own struct and
    contract names) is not part of the ABI encoding and is left out."""
    return [
        {
            "name": p.get("name", ""),
            "type": p["type"],
            "indexed": p.get("indexed"),
            "components": shape(p.get("components", [])),
        }
        for p in params
    ]


def all_local_errors() -> dict[str, dict[str, Any]]:
    """Every error LocalGmx.sol declares, as ABI entries: from the source, because an error
    used only through `.selector` (a cancelled order's reasonBytes) is in no artifact's ABI;
    checked against the artifacts' entries where they have one."""
    declared: dict[str, dict[str, Any]] = {}
    text = "\n".join(source.read_text() for source in SOURCES)
    for name, params in DECLARED_ERROR.findall(text):
        inputs = [
            {"name": p.split()[1], "type": p.split()[0]} for p in params.split(",") if p.strip()
        ]
        declared[name] = {"type": "error", "name": name, "inputs": inputs}
    for path in BUILD.glob("Gmx*.json"):
        for e in json.loads(path.read_text())["abi"]:
            if e["type"] == "error":
                assert shape(e["inputs"]) == shape(declared[e["name"]]["inputs"]), e["name"]
    return declared


def test_the_type_string_builder_expands_nested_tuples_and_arrays() -> None:
    param = {
        "type": "tuple[]",
        "components": [
            {"type": "address"},
            {"type": "tuple", "components": [{"type": "uint256[]"}, {"type": "bool"}]},
        ],
    }
    assert type_string(param) == "(address,(uint256[],bool))[]"
    transfer = {"name": "transfer", "inputs": [{"type": "address"}, {"type": "uint256"}]}
    assert keccak(text=signature(transfer))[:4].hex() == "a9059cbb"


@pytest.mark.parametrize(("sdk", "local", "kind", "name"), CHECKED)
def test_local_entry_matches_the_sdk_abi(sdk: str, local: str, kind: str, name: str) -> None:
    theirs = entry(SDK[sdk], kind, name)
    ours = entry(local_abi(local), kind, name)
    assert signature(ours) == signature(theirs)
    if kind == "function":
        assert keccak(text=signature(ours))[:4] == keccak(text=signature(theirs))[:4]
        assert shape(ours["outputs"]) == shape(theirs["outputs"])
        assert ours["stateMutability"] == theirs["stateMutability"]
    else:
        assert keccak(text=signature(ours)) == keccak(text=signature(theirs))  # topic0
        assert ours.get("anonymous", False) == theirs.get("anonymous", False)
    assert shape(ours["inputs"]) == shape(theirs["inputs"])


@pytest.mark.parametrize("name", CHECKED_ERRORS)
def test_the_errors_copytrade_decodes_match_gmx(name: str) -> None:
    theirs = entry(SDK["CustomErrors"], "error", name)
    ours = all_local_errors()[name]
    assert signature(ours) == signature(theirs)
    assert shape(ours["inputs"]) == shape(theirs["inputs"])


def test_every_local_error_is_gmx_s_own_but_the_documented_local_ones() -> None:
    gmx = {e["name"]: e for e in SDK["CustomErrors"] if e["type"] == "error"}
    ours = all_local_errors()
    assert set(ours) - set(gmx) == LOCAL_ONLY_ERRORS
    for name in set(ours) & set(gmx):
        assert signature(ours[name]) == signature(gmx[name]), name
        assert shape(ours[name]["inputs"]) == shape(gmx[name]["inputs"]), name


def test_the_create_order_params_tuple_is_the_sdk_s() -> None:
    """Spelled out, so a change to either side reads as a diff of field names."""
    (params,) = entry(local_abi("GmxExchangeRouter"), "function", "createOrder")["inputs"]
    fields = [c["name"] for c in params["components"]]
    assert fields == [
        "addresses",
        "numbers",
        "orderType",
        "decreasePositionSwapType",
        "isLong",
        "shouldUnwrapNativeToken",
        "autoCancel",
        "referralCode",
        "dataList",
    ]
    (theirs,) = entry(SDK["ExchangeRouter"], "function", "createOrder")["inputs"]
    assert shape(params["components"]) == shape(theirs["components"])
