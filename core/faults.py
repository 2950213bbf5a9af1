"""Named pause points for tests (never a sleep, never a safeguard switch).

With COPYTRADE_TEST_PAUSE_DIR set and a file `<dir>/<name>.armed` present, a process that
reaches `pause("<name>")` writes `<name>.reached` (with its pid) and waits until
`<name>.release` exists, then writes `<name>.passed` so the test knows the process went on
(it clears the files only after that). Without the setting the call returns at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from config.settings import get_settings

POINTS = (
    "intake.before_commit",  # a signal row inserted, its transaction not yet committed
    "build.after_check",  # check_mode's checks done, nothing signed yet
    "send.before_window",
    "send.in_window",
    "window.after_guard",  # a chunk's guard said go; the chunk is about to be sent
    # Crash points: a test SIGKILLs the process that reached one.
    "build.before_commit",  # signed in memory, nonce and bytes not yet committed
    "build.after_commit",  # nonce and signed bytes written ahead, nothing broadcast
    "send.after_broadcast",  # the node has the transaction, our rows still say signed
    "send.before_commit",  # the signed -> sent update is inside its uncommitted transaction
    "nonces.after_count",  # the nonce scan has the latest counts, has decided nothing yet
    "replace.after_claim",  # a replacement written ahead (claimed), not yet broadcast
    "leaders.before_read",  # a watcher round has read the leaders' cursors and the head
    "leaders.after_record",  # a leader's block recorded (outbox written), not yet submitted
    "notify.before_send",  # a notification's rows locked, nothing sent yet
    "notify.after_send",  # the destination took it; the rows still say pending
    "size.before_commit",  # a signal's intents decided under the follower and account locks
    "guard.before_trip",  # a loss guard reading recorded (marks row locked), breaker not yet set
)


def pause(name: str, timeout_s: float = 60) -> None:
    assert name in POINTS, name
    directory = get_settings().test_pause_dir
    if not directory:
        return
    base = Path(directory)
    if not (base / f"{name}.armed").exists():
        return
    _mark(base / f"{name}.reached")
    deadline = time.monotonic() + timeout_s
    while not (base / f"{name}.release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    _mark(base / f"{name}.passed")


def _mark(path: Path) -> None:
    """Write this process's pid to `path` atomically: a test that sees the file exist reads
    the whole pid (a plain write let a reader on a busy machine find it still empty)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(str(os.getpid()))
    os.replace(tmp, path)
