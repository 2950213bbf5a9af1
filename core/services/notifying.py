"""The notifications drain (`copytrade.notify`, its own queue, driven by beat): every
destination's next message, one at a time per destination and in order, paced (at most one
message per destination every COPYTRADE_NOTIFY_MIN_INTERVAL_S — Telegram allows about one
a second per chat), a follower's reports of one signal as one message. A refusal worth
trying again backs off (1, 2, 4 … s, up to COPYTRADE_NOTIFY_BACKOFF_MAX_S) and holds the
destination's later messages behind it; a permanent one (403, a bad URL) is recorded and
never tried again. See core/adapters/postgres/notifications.py for the one duplicate
window."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from core.domain.notifications import TELEGRAM, Pending, SendResult, Target, group, render
from core.faults import pause
from core.ports import NotificationStore, NotifySender

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotifyConfig:
    tx_url: str = (
        "{tx_hash}"  # the transaction link in a message, e.g. https://arbiscan.io/tx/{tx_hash}
    )
    telegram_bot_token: str = ""  # followers whose destination is `telegram`
    operator_url: str = ""  # the operator's channel (an apprise URL)
    min_interval_s: float = 1.0
    max_tries: int = 30
    backoff_max_s: float = 60.0
    budget_s: float = 10.0  # a drain round stops taking new messages after this long
    telegram_max_per_s: float = 25.0  # one bot: Telegram allows about 30 messages a second


@dataclass
class DrainResult:
    sent: int = 0  # messages (rows) delivered
    retrying: int = 0
    failed: int = 0
    busy: bool = False  # another drain holds the lock


class Notifier:
    def __init__(
        self,
        store: NotificationStore,
        sender: NotifySender,
        cfg: NotifyConfig,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.sender = sender
        self.cfg = cfg
        self.clock = clock
        self.sleep = sleep
        self._bot_sends: deque[float] = deque()  # this process's recent sends through the bot

    def drain(self) -> DrainResult:
        result = DrainResult()
        with self.store.drain_lock() as mine:
            if not mine:
                result.busy = True
                return result
            deadline = time.monotonic() + self.cfg.budget_s
            now = self.clock()
            self._bot_sends = deque(sorted(now - age for age in self.store.bot_sent_ages(1.0)))
            while time.monotonic() < deadline:
                ready = [h for h in self.store.heads() if h.due and self._paced(h.since_last_s)]
                if not ready:
                    break
                for head in ready:
                    if time.monotonic() >= deadline:
                        break  # the rest wait for the next round: watch shares these workers
                    done = self.store.deliver(
                        head, self._send, self.cfg.max_tries, self.cfg.backoff_max_s
                    )
                    if done is None:
                        continue
                    n, how = done
                    if how.ok:
                        result.sent += n
                    elif how.permanent:
                        result.failed += n
                        log.warning("notification to %s refused: %s", head.destination, how.detail)
                    else:
                        result.retrying += n
                # the destinations just sent to wait their interval: the next round (beat)
                # or pass takes them up
                if self.cfg.min_interval_s > 0:
                    break
        return result

    def _paced(self, since_last_s: float | None) -> bool:
        return since_last_s is None or since_last_s >= self.cfg.min_interval_s

    def _send(self, target: Target, rows: list[Pending]) -> tuple[list[Pending], SendResult]:
        went = group(rows)
        url = self._url(target)
        if isinstance(url, SendResult):
            return went, url
        try:
            msg = render([(r.event, r.facts) for r in went], self.cfg.tx_url)
            if url.startswith("tgram://"):
                self._bot_pace()
            pause("notify.before_send")
            result = self.sender.send(url, msg.title, msg.body)
        except Exception as exc:  # noqa: BLE001 - one message's fault is its own: recorded
            log.exception("notification %s to %s could not be sent", went[0].id, target.destination)
            return went, SendResult(False, detail=f"internal: {type(exc).__name__}")
        pause("notify.after_send")
        return went, result

    def _bot_pace(self) -> None:
        """At most `telegram_max_per_s` sends through the bot in any second (one drain runs
        at a time, so this process's count is the bot's)."""
        now = self.clock()
        while self._bot_sends and now - self._bot_sends[0] >= 1.0:
            self._bot_sends.popleft()
        if len(self._bot_sends) >= self.cfg.telegram_max_per_s:
            self.sleep(1.0 - (now - self._bot_sends[0]))
            self._bot_sends.popleft()
        self._bot_sends.append(self.clock())

    def _url(self, target: Target) -> str | SendResult:
        """The destination's URL; or why there is none: our own setting missing (waits,
        pending), or the follower's destination removed (refused for good)."""
        if target.destination == "operator":
            if not self.cfg.operator_url:
                return SendResult(False, waiting=True, detail="COPYTRADE_OPERATOR_NOTIFY_URL unset")
            return self.cfg.operator_url
        if target.notify_url == TELEGRAM:
            if not self.cfg.telegram_bot_token:
                return SendResult(False, waiting=True, detail="COPYTRADE_TELEGRAM_BOT_TOKEN unset")
            if target.tg_user_id is None:
                return SendResult(False, permanent=True, detail="no Telegram chat for the follower")
            return f"tgram://{self.cfg.telegram_bot_token}/{target.tg_user_id}"
        if target.notify_url is None:
            return SendResult(False, permanent=True, detail="no destination set")
        return target.notify_url
