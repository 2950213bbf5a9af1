"""`copytrade drift`: per follower and asset, the leader's position, the follower's on
chain and what the policy allows (core/domain/drift.py judges)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from core.domain.drift import FLAT, Held, assess
from core.domain.rows import FollowerRow
from core.ports import ChainReads, Venue


def report(
    followers: Iterable[FollowerRow],
    traded: dict[int, set[str]],
    chain: ChainReads,
    venue: str,
    abi: Venue,
    tolerance_bps: int = 100,
    include_flat: bool = False,
    step: Callable[[], None] = lambda: None,
) -> list[dict[str, Any]]:
    """One row per (follower, asset) over the follower's allowed assets and every asset
    its leader has traded (`traded`: leader id -> assets). `step` is called per follower
    (a progress bar). Money in micro-USD."""
    leader_pos: dict[tuple[str, str], Held] = {}

    def held(trader: str, asset: str) -> Held:
        c = abi.position_call(trader, asset)
        p = abi.decode_position(asset, chain.call(c.to, c.data))
        return Held(p.is_long, p.size_usd_1e6)

    rows: list[dict[str, Any]] = []
    for f in followers:
        assets = sorted(set(f.policy.assets) | traded.get(f.leader_id, set()))
        for asset in assets:
            key = (f.leader_address, asset)
            if key not in leader_pos:
                leader_pos[key] = held(f.leader_address, asset)
            lead, mine = leader_pos[key], held(f.account, asset)
            limit = f.policy.max_position_usd_1e6
            a = assess(lead, mine, f.policy.sizing, limit, tolerance_bps)
            if a.status == FLAT and not include_flat:
                continue
            t = a.target_usd_1e6
            rows.append(
                {
                    "follower_id": f.id,
                    "account_id": f.account_id,  # its wallet's position: every following's
                    "leader": f.leader_address,
                    "address": f.address,
                    "asset": asset,
                    "sizing": str(f.policy.sizing),
                    "leader_usd_1e6": lead.signed,
                    "follower_usd_1e6": mine.signed,
                    "target_usd_1e6": None if t is None else (t if lead.is_long else -t),
                    "limit_usd_1e6": limit,
                    "off_by_usd_1e6": a.off_by_usd_1e6,
                    "status": a.status,
                }
            )
        step()
    return rows
