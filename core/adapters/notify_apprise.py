"""Sending a notification through apprise (PyPI `apprise`: Telegram, Discord, Slack,
e-mail, webhooks — a destination is a URL). apprise answers only True or False; the HTTP
status it met is in the warning it logs (`… error=403.`), captured here to tell a
permanent refusal (400, 401, 403, 404, 410: a chat that never started the bot, a webhook
that is gone) from one worth trying again (429, 5xx, no connection). The URL may hold a
token: it never leaves this module in a message."""

from __future__ import annotations

import logging
import re

import apprise

from core.domain.notifications import PERMANENT_HTTP, SendResult

STATUS = re.compile(r"error=(\d{3})\b")


def valid(url: str) -> bool:
    """Whether apprise knows how to send to `url` (its scheme and form)."""
    return bool(apprise.Apprise().add(url))


class AppriseSender:
    """The `NotifySender` port on apprise. apprise's own log lines stay inside it: at DEBUG
    they carry the request URL (a Telegram bot token, a webhook's secret), so its logger is
    held at WARNING and kept from our handlers; what went wrong is the result's `detail`."""

    def __init__(self) -> None:
        own = logging.getLogger("apprise")
        own.setLevel(logging.WARNING)
        own.propagate = False

    def send(self, url: str, title: str, body: str) -> SendResult:
        a = apprise.Apprise()
        if not a.add(url):
            return SendResult(False, permanent=True, detail="not a URL apprise can send to")
        with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
            ok = a.notify(body=body, title=title)
            said = captured.getvalue()
        if ok:
            return SendResult(True)
        codes = [int(c) for c in STATUS.findall(said)]
        if codes:
            code = codes[-1]
            return SendResult(False, permanent=code in PERMANENT_HTTP, detail=f"HTTP {code}")
        if "connection" in said.lower() or "socket" in said.lower():
            return SendResult(False, detail="no connection to the destination")
        return SendResult(False, detail="the destination did not take it")
