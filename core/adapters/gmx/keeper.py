"""The dev keeper of the local GMX-compatible venue (`copytrade dev keeper`; local stacks
only): what GMX's keepers do on Arbitrum, reduced to what tests and the demo need.

Each round it reads the venue's `OrderCreated` / `OrderExecuted` / `OrderCancelled`
events since the last round; every order still pending `delay_s` after it was first seen
is, by `action`:
- `execute`: executed at the fixture price of its market, moved `move_bps` against the
  trader (a long increase pays more, a short increase gets less, a decrease the other
  way) — the venue itself cancels an order whose acceptable price the moved price breaks
  (`OrderNotFulfillableAtAcceptablePrice`), as GMX does;
- `cancel`: cancelled by the keeper with a reason;
- `never`: left alone (the request expires; copytrade cancels it through the venue).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from core.adapters.chain import Chain
from core.adapters.gmx.events import decode_event, event_name_hash, event_topic
from core.adapters.gmx.local import KEEPER_GAS, LocalGmx, cancel_calldata, execute_calldata
from core.adapters.venue_admin import send_many_and_wait
from core.domain.errors import CopytradeError
from core.domain.venue import LogFilter
from core.ports import Signer

log = logging.getLogger(__name__)
ACTIONS = ("execute", "cancel", "never")
MARKET_INCREASE = 2
ORDER_EVENTS = ("OrderCreated", "OrderExecuted", "OrderCancelled")


@dataclass
class Pending:
    key: str
    asset: str
    is_long: bool
    increase: bool
    seen_at: float


@dataclass
class KeeperRound:
    executed: int = 0
    cancelled: int = 0
    waiting: int = 0
    keys: list[str] = field(default_factory=list)


def _b32(key: str) -> bytes:
    return bytes.fromhex(key.removeprefix("0x"))


def moved_price(price_usd_1e6: int, move_bps: int, is_long: bool, increase: bool) -> int:
    """The price moved `move_bps` against the trader (buying pays more, selling gets less)."""
    buying = is_long == increase
    sign = 1 if buying else -1
    return price_usd_1e6 * (10_000 + sign * move_bps) // 10_000


class DevKeeper:
    def __init__(
        self,
        chain: Chain,
        signer: Signer,
        chain_id: int,
        gmx: LocalGmx,
        prices: Mapping[str, int],
        delay_s: float = 1.0,
        action: str = "execute",
        move_bps: int = 0,
        batch: int = 200,
    ) -> None:
        if action not in ACTIONS:
            raise ValueError(f"keeper action {action!r}: one of {', '.join(ACTIONS)}")
        self.chain = chain
        self.signer = signer
        self.chain_id = chain_id
        self.gmx = gmx
        self.prices = dict(prices)
        self.delay_s = delay_s
        self.action = action
        self.move_bps = move_bps
        self.batch = batch
        self.next_block = 0
        self.pending: dict[str, Pending] = {}
        self.asset_of = {m.lower(): a for a, m in gmx.markets.items()}

    def _read(self) -> None:
        head = self.chain.block_number()
        if head < self.next_block:
            return
        f = LogFilter(
            self.gmx.event_emitter,
            [event_topic("EventLog2"), [event_name_hash(n) for n in ORDER_EVENTS]],
        )
        now = time.monotonic()
        for lg in self.chain.logs([f], self.next_block, head):
            ev = decode_event(lg.topics, lg.data)
            if ev is None or ev.topic1 is None:
                continue
            if ev.name == "OrderCreated":
                asset = self.asset_of.get(str(ev.items.get("market", "")).lower())
                if asset is None:
                    continue
                increase = int(ev.items.get("orderType", 0)) == MARKET_INCREASE
                is_long = bool(ev.items.get("isLong"))
                self.pending[ev.topic1] = Pending(ev.topic1, asset, is_long, increase, now)
            else:
                self.pending.pop(ev.topic1, None)
        self.next_block = head + 1

    def round(self) -> KeeperRound:
        """Act on every order due this round in one broadcast (consecutive nonces, receipts
        waited for together): a thousand requests fill in a few blocks, not a thousand."""
        self._read()
        r = KeeperRound()
        now = time.monotonic()
        due: list[tuple[str, bytes]] = []
        for key, p in self.pending.items():
            if self.action == "never" or now - p.seen_at < self.delay_s:
                r.waiting += 1
            elif self.action == "cancel":
                due.append((key, cancel_calldata(_b32(key), "dev keeper")))
            else:
                price = moved_price(self.prices[p.asset], self.move_bps, p.is_long, p.increase)
                due.append((key, execute_calldata(self.gmx, _b32(key), price, p.asset)))
        for start in range(0, len(due), self.batch):
            chunk = due[start : start + self.batch]
            receipts = send_many_and_wait(
                self.chain,
                self.signer,
                self.chain_id,
                [(self.gmx.order_handler, data) for _, data in chunk],
                gas=KEEPER_GAS,
            )
            for (key, _), receipt in zip(chunk, receipts, strict=True):
                if receipt.status != 1:
                    log.warning("dev keeper: %s on order %s reverted", self.action, key)
                elif self.action == "cancel":
                    r.cancelled += 1
                else:
                    r.executed += 1
                r.keys.append(key)
                del self.pending[key]
        return r

    def run(
        self,
        period_s: float = 0.25,
        rounds: int | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """A round every `period_s` until `rounds` are done or `stop` is set; a round that
        meets a node hiccup (a test restarting something) is logged and tried again."""
        stop = stop or threading.Event()
        done = 0
        while not stop.is_set() and (rounds is None or done < rounds):
            try:
                r = self.round()
                if r.keys:
                    log.info("keeper: %d executed, %d cancelled", r.executed, r.cancelled)
            except CopytradeError as exc:
                log.warning("dev keeper: %s", exc)
            done += 1
            stop.wait(period_s)

    @contextmanager
    def running(self, period_s: float = 0.25) -> Iterator[DevKeeper]:
        """`run` on a background thread for the block; stopped (and joined) on the way out."""
        stop = threading.Event()
        t = threading.Thread(
            target=self.run,
            kwargs={"period_s": period_s, "stop": stop},
            daemon=True,
            name="dev-keeper",
        )
        t.start()
        try:
            yield self
        finally:
            stop.set()
            t.join(timeout=10)
