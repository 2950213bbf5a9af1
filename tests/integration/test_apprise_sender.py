"""Sending through apprise's real code path to a local HTTP receiver: which refusals are for
good (400, 401, 403, 404, 410, a URL apprise cannot use) and which are worth another try
(429, 5xx, no connection); a bot token in the URL never reaches our log handlers, even at
DEBUG."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from core.adapters.notify_apprise import AppriseSender
from core.demo.receiver import Receiver
from core.domain.notifications import SendResult


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.up()
    yield r
    r.down()


@pytest.mark.parametrize(
    ("code", "want"),
    [
        (200, SendResult(True)),
        (204, SendResult(True)),
        (400, SendResult(False, permanent=True, detail="HTTP 400")),
        (401, SendResult(False, permanent=True, detail="HTTP 401")),
        (403, SendResult(False, permanent=True, detail="HTTP 403")),
        (404, SendResult(False, permanent=True, detail="HTTP 404")),
        (410, SendResult(False, permanent=True, detail="HTTP 410")),
        (429, SendResult(False, detail="HTTP 429")),
        (500, SendResult(False, detail="HTTP 500")),
        (503, SendResult(False, detail="HTTP 503")),
    ],
)
def test_a_refusal_is_for_good_or_for_now_by_its_status(
    receiver: Receiver, code: int, want: SendResult
) -> None:
    path = f"code{code}"
    receiver.answer(path, code)
    assert AppriseSender().send(receiver.url(path), "t", "body") == want
    assert receiver.asked[path] == 1


def test_no_connection_is_for_now_and_a_url_apprise_cannot_use_is_for_good() -> None:
    closed = Receiver()  # never listening
    assert AppriseSender().send(closed.url("x"), "t", "b") == SendResult(
        False, detail="no connection to the destination"
    )
    assert AppriseSender().send("nonsense://x", "t", "b").permanent


def test_a_token_in_the_url_never_reaches_our_logs() -> None:
    seen = io.StringIO()
    handler = logging.StreamHandler(seen)
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        closed = Receiver()
        AppriseSender().send(f"json://user:SECRET-PASS@127.0.0.1:{closed.port}/p", "t", "b")
        AppriseSender().send("tgram://123456:SECRET-TOKEN/42?cto=1&rto=1", "t", "b")
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
    assert "SECRET" not in seen.getvalue()
