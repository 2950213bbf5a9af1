"""The demo's notifications: every follower's destination is a local HTTP receiver
(apprise's json:// target, core/demo/receiver.py); once the copies are done the demo waits
for the outbox to drain and prints what each follower was told."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.table import Table

from core.demo.receiver import Receiver


def listen(s: Any, follower_ids: list[int]) -> Receiver:
    receiver = Receiver()
    receiver.up()
    for fid in follower_ids:
        s.registry.set_notify_url(fid, receiver.url(f"f{fid}"), "json://…", "demo", "demo")
    return receiver


def drained(s: Any, timeout_s: float = 30) -> int:
    """Wait until nothing is pending in the outbox; returns what is still pending."""
    deadline = time.monotonic() + timeout_s
    while True:
        pending = int(s.notifications.counts().get("pending", 0))
        if pending == 0 or time.monotonic() > deadline:
            return pending
        time.sleep(0.2)


def show(
    s: Any, receiver: Receiver, cast: list[tuple[int, str, str]], console: Console, quiet: bool
) -> list[dict[str, Any]]:
    """Print (unless `quiet`) and return what the receiver got, per follower."""
    left = drained(s)
    out = [
        {"follower_id": fid, "persona": name, "messages": receiver.messages(f"f{fid}")}
        for fid, name, _ in cast
    ]
    if not quiet:
        t = Table(title="notifications the local receiver got (one per follower and signal)")
        t.add_column("id")
        t.add_column("persona")
        t.add_column("message")
        for fid, name, _ in cast:
            for n, m in enumerate(receiver.messages(f"f{fid}")):
                t.add_row(str(fid) if n == 0 else "", name if n == 0 else "", m)
        console.print(t)
        if left:
            console.print(f"[yellow]{left} notification(s) still pending[/]")
    return out
