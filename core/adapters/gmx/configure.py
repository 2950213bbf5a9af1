"""GMX settings (COPYTRADE_GMX_*) as a `GmxConfig`: the contracts from the setting or, on
Arbitrum/Avalanche, from the pinned SDK; the markets; the execution fee. Every problem is
a ConfigError naming the variable."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from core.adapters.gmx import sdk
from core.adapters.gmx.config import GmxConfig, GmxMarket
from core.domain.errors import ConfigError

CONTRACT_FIELDS = (
    "exchange_router",
    "router",
    "order_vault",
    "reader",
    "data_store",
    "event_emitter",
    "usdc",
)


def _json(name: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"COPYTRADE_{name}: not JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"COPYTRADE_{name}: a JSON object is expected")
    return value


def markets_from(text: str) -> dict[str, GmxMarket]:
    if not text.strip():
        raise ConfigError(
            'COPYTRADE_GMX_MARKETS is empty: {"ETH": {"market": "0x…", "index_decimals": 18}}'
        )
    out: dict[str, GmxMarket] = {}
    for asset, m in _json("GMX_MARKETS", text).items():
        try:
            out[str(asset)] = GmxMarket(str(m["market"]), int(m["index_decimals"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"COPYTRADE_GMX_MARKETS[{asset!r}]: needs market and index_decimals ({exc})"
            ) from exc
    return out


def gmx_config(chain_id: int, contracts: str, markets: str) -> GmxConfig:
    by_asset = markets_from(markets)
    if not contracts.strip():
        chains = sorted(sdk.load()["chains"])
        if str(chain_id) not in chains:
            raise ConfigError(
                f"COPYTRADE_GMX_CONTRACTS is empty and the SDK has no GMX on chain {chain_id} "
                f"(it has {', '.join(chains)})"
            )
        return GmxConfig.for_chain(chain_id, by_asset)
    given = _json("GMX_CONTRACTS", contracts)
    missing = [f for f in CONTRACT_FIELDS if not given.get(f)]
    if missing:
        raise ConfigError(f"COPYTRADE_GMX_CONTRACTS: missing {', '.join(missing)}")
    known = {f.name for f in fields(GmxConfig)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigError(f"COPYTRADE_GMX_CONTRACTS: unknown {', '.join(unknown)}")
    return GmxConfig(
        **{f: str(given[f]) for f in CONTRACT_FIELDS},
        usdc_decimals=int(given.get("usdc_decimals", 6)),
        markets=by_asset,
        # optional: where subaccounts' orders go (followers on a subaccount need it)
        subaccount_router=str(given.get("subaccount_router", "")),
    )
