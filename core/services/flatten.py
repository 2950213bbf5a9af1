"""Flatten a follower: every position it holds on the venue closed through the normal
pipeline (`follower close-all`, and pausing or removing a follower whose policy says
`close_on_stop`). Each position becomes one operator signal for that follower only — a close
its pause and breaker do not hold (risk.LeaderOrder.forced), sized on a venue that closes by
size from the position read before signing — so it is idempotent like every signal (one
intent per follower and signal, the nonce written ahead), audited, and sent only when the
mode is LIVE and the stop is off. A position whose operator close is still open is not
closed twice: the open signal is reported instead."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from core.domain.errors import ConfigError
from core.domain.rows import FollowerRow
from core.domain.signals import SignalSpec
from core.domain.types import Action, Side
from core.domain.venue import Call, Position
from core.ports import Dispatcher, Venue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Held:
    asset: str
    side: Side


@dataclass(frozen=True)
class Closing:
    asset: str
    side: str
    signal_id: str
    status: str  # accepted | already_closing

    def as_dict(self) -> dict[str, Any]:
        return {"asset": self.asset, "side": self.side, "signal_id": self.signal_id,
                "status": self.status}  # fmt: skip


class FlattenStore(Protocol):
    def follower(self, follower_id: int) -> FollowerRow: ...
    def traded_assets(self, follower_id: int) -> list[str]: ...
    def open_close(self, follower_id: int, asset: str, side: str) -> str | None: ...
    def insert_signal(
        self, spec: SignalSpec, leader_id: int, source: str, follower_id: int | None = None
    ) -> tuple[str, int]: ...
    def audit(self, actor: str, action: str, reason: str | None, **details: Any) -> None: ...


class FlattenChain(Protocol):
    def calls(self, calls: Sequence[Call], block: int | None = None) -> list[bytes]: ...


class Flattener:
    def __init__(
        self,
        store: FlattenStore,
        venue: Venue,
        chain: FlattenChain,
        dispatcher: Dispatcher,
        source: str,
    ) -> None:
        self.store = store
        self.venue = venue
        self.chain = chain
        self.dispatcher = dispatcher
        self.source = source  # the operator signals' source (postgres/signals.py)

    def held(self, follower: FollowerRow) -> list[Held]:
        """Every position the follower's account holds on the venue, read now: the venue's
        list of the account's positions (GMX), or one read per asset the follower may trade
        or has traded (the recorder)."""
        account = follower.account
        c = self.venue.holdings_call(account)
        if c is not None:
            (result,) = self.chain.calls([c])
            try:
                got = {
                    Held(h.asset, Side.LONG if h.is_long else Side.SHORT)
                    for h in self.venue.decode_holdings(result)
                    if h.size_usd_1e6 > 0 or h.size_raw > 0
                }
                return sorted(got, key=lambda h: (h.asset, h.side.value))
            except ConfigError as exc:  # a market we do not know: close what we do
                log.warning("follower %s: %s; reading the configured markets", follower.id, exc)
        assets = sorted(set(follower.policy.assets) | set(self.store.traded_assets(follower.id)))
        calls = [self.venue.position_call(account, a) for a in assets]
        sides: tuple[bool | None, ...] = (True, False) if self.venue.sides_apart else (None,)
        out: list[Held] = []
        for asset, result in zip(assets, self.chain.calls(calls) if calls else [], strict=True):
            for is_long in sides:
                try:
                    p: Position = self.venue.decode_position(asset, result, is_long)
                except ConfigError:
                    continue  # an asset no longer configured: nothing of it to close here
                if (p.size_usd_1e6 > 0 or p.size_raw > 0) and is_long in (None, p.is_long):
                    out.append(Held(asset, Side.LONG if p.is_long else Side.SHORT))
        return out

    def close_all(self, follower_id: int, reason: str, actor: str) -> list[Closing]:
        """One operator close signal per position held (dispatched now; a broker refusal
        leaves it to the reconciler); audited with the reason."""
        f = self.store.follower(follower_id)
        out: list[Closing] = []
        for h in self.held(f):
            already = self.store.open_close(f.id, h.asset, h.side.value)
            if already is not None:
                out.append(Closing(h.asset, h.side.value, already, "already_closing"))
                continue
            spec = SignalSpec(
                signal_id=f"close-all:{f.id}:{h.asset}:{h.side.value}:{uuid.uuid4().hex[:12]}",
                leader=f.leader_address,
                action=Action.CLOSE,
                asset=h.asset,
                side=h.side,
                collateral_usd_1e6=0,
                leverage_x=1,
            )
            _, pk = self.store.insert_signal(spec, f.leader_id, self.source, follower_id=f.id)
            self.dispatcher.dispatch(pk)
            out.append(Closing(h.asset, h.side.value, spec.signal_id, "accepted"))
        self.store.audit(
            actor, "follower.close_all", reason, follower_id=f.id,
            signals=[c.signal_id for c in out],
        )  # fmt: skip
        log.warning("follower %s: close-all (%s): %d position(s)", f.id, reason, len(out))
        return out
