"""GMX's ABIs and deployments as pinned from the npm `@gmx-io/sdk` (contracts/gmx/sdk.json).

The file is the single source of the encodings in codec.py and events.py: read once per
process, lazily (nothing is read at import time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.domain.errors import ConfigError

SDK_JSON = Path(__file__).resolve().parents[3] / "contracts" / "gmx" / "sdk.json"


@dataclass(frozen=True)
class Token:
    address: str
    decimals: int


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    """The whole of sdk.json: {"sdk", "chains", "abis"}."""
    data: dict[str, Any] = json.loads(SDK_JSON.read_text())
    return data


def abi(contract: str) -> list[dict[str, Any]]:
    """The ABI of one contract (ExchangeRouter, SyntheticsReader, EventEmitter, …)."""
    abis: dict[str, list[dict[str, Any]]] = load()["abis"]
    if contract not in abis:
        raise ConfigError(f"no ABI {contract!r} in {SDK_JSON.name}; it has {sorted(abis)}")
    return abis[contract]


@lru_cache(maxsize=64)
def entry(contract: str, name: str, kind: str = "function") -> dict[str, Any]:
    """The one ABI entry of `kind` (function / event / error) called `name`."""
    found = [e for e in abi(contract) if e.get("type") == kind and e.get("name") == name]
    if len(found) != 1:
        raise ConfigError(f"{contract}.{name}: {len(found)} {kind} entries in {SDK_JSON.name}")
    return found[0]


def _chain(chain_id: int) -> dict[str, Any]:
    chains: dict[str, Any] = load()["chains"]
    if str(chain_id) not in chains:
        raise ConfigError(
            f"GMX has no deployment for chain {chain_id} here; known: {sorted(chains)}"
        )
    chain: dict[str, Any] = chains[str(chain_id)]
    return chain


def addresses(chain_id: int) -> dict[str, str]:
    """The GMX contracts of a chain by name (ExchangeRouter, OrderVault, …)."""
    return dict(_chain(chain_id)["addresses"])


def tokens(chain_id: int) -> dict[str, Token]:
    """The tokens the pin records for a chain by symbol (USDC, WETH / WAVAX)."""
    return {
        symbol: Token(t["address"], int(t["decimals"]))
        for symbol, t in _chain(chain_id)["tokens"].items()
    }
