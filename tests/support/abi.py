"""Canonical ABI type strings for tests, written independently of core/adapters/gmx (a
conformance check must not reuse the code it checks)."""

from __future__ import annotations

from typing import Any


def type_string(param: dict[str, Any]) -> str:
    """The canonical type: tuples expanded recursively, array suffixes kept."""
    t: str = param["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(type_string(c) for c in param["components"]) + ")" + t[5:]
    return t


def signature(e: dict[str, Any]) -> str:
    return f"{e['name']}({','.join(type_string(i) for i in e['inputs'])})"
