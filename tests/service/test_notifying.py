"""The notifications drain's own rules on in-memory parts: a Telegram destination is the bot
of the settings writing to the follower's chat, and the bot never sends more than its
limit in any second; a destination that cannot be resolved is refused for good."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.domain.notifications import Pending, SendResult, Target
from core.services.notifying import Notifier, NotifyConfig


@dataclass
class Clock:
    t: float = 0.0
    slept: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


@dataclass
class Sender:
    clock: Clock
    sent: list[tuple[float, str]] = field(default_factory=list)

    def send(self, url: str, title: str, body: str) -> SendResult:
        self.sent.append((self.clock.t, url))
        self.clock.t += 0.001  # a fast destination
        return SendResult(True)


def notifier(**cfg: object) -> tuple[Notifier, Sender, Clock]:
    clock = Clock()
    sender = Sender(clock)
    n = Notifier(None, sender, NotifyConfig(**cfg), clock.now, clock.sleep)  # type: ignore[arg-type]
    return n, sender, clock


def one(i: int) -> list[Pending]:
    return [Pending(i, "test", None, {"text": "x"}, 0)]


def test_the_bot_writes_to_the_follower_s_chat_at_most_its_limit_a_second() -> None:
    n, sender, clock = notifier(telegram_bot_token="123:abc", telegram_max_per_s=25)
    for i in range(60):
        n._send(Target(f"follower:{i}", "telegram", 1000 + i), one(i))
    assert sender.sent[0][1] == "tgram://123:abc/1000"
    times = [t for t, _ in sender.sent]
    assert all(sum(1 for u in times if t <= u < t + 1.0) <= 25 for t in times)
    assert clock.slept  # it waited rather than exceed the limit
    assert times[-1] < 3.0  # and no longer than needed: 60 messages in under 3 s


def test_other_destinations_are_not_paced_by_the_bot() -> None:
    n, sender, clock = notifier(telegram_bot_token="123:abc", telegram_max_per_s=1)
    for i in range(10):
        n._send(Target(f"follower:{i}", "json://h/p", None), one(i))
    assert not clock.slept
    assert len(sender.sent) == 10


def test_a_missing_setting_of_ours_waits_and_a_removed_destination_is_refused() -> None:
    n, sender, _ = notifier()  # no bot token, no operator channel
    for target, setting in (
        (Target("follower:1", "telegram", 5), "COPYTRADE_TELEGRAM_BOT_TOKEN"),
        (Target("operator", None), "COPYTRADE_OPERATOR_NOTIFY_URL"),
    ):
        went, how = n._send(target, one(1))
        assert how == SendResult(False, waiting=True, detail=f"{setting} unset")
        assert [p.id for p in went] == [1]
    _, how = n._send(Target("follower:2", None), one(2))  # `follower notify 2 off`
    assert how == SendResult(False, permanent=True, detail="no destination set")
    assert sender.sent == []


def test_a_message_that_cannot_be_rendered_is_recorded_not_raised() -> None:
    n, sender, _ = notifier(tx_url="https://x/{hash}")  # a template naming no tx_hash
    rows = [Pending(1, "executed", None, {"tx_hash": "0xab", "action": "open"}, 0)]
    _, how = n._send(Target("follower:1", "json://h/p"), rows)
    assert how == SendResult(False, detail="internal: KeyError")
    assert sender.sent == []
