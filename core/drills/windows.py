"""Overlapping broadcast windows held on purpose: what the emergency-stop drill (and its
test) keeps open while it stops, so a stop that can be starved by share lockers is caught.

Each holder is a thread on its own database connection that opens the product's own
broadcast window (`ModeService.broadcast_window`), keeps it `hold_s`, closes it and opens
the next at once; holder i starts i/K of a period late, so at every moment some window is
open. Once stopped, a window opening is refused (UnsafeToSend) and the holder tries again.
Nothing is broadcast from these windows.
"""

from __future__ import annotations

import threading
import time

from core.domain.errors import TransientError, UnsafeToSend
from core.services.mode import ModeService


class WindowHolders:
    def __init__(self, mode: ModeService, k: int, hold_s: float = 1.0) -> None:
        self.mode = mode
        self.k = k
        self.hold_s = hold_s
        self.opened = 0  # windows opened (not refused) so far
        self.refused = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True, name=f"window-{i}")
            for i in range(k)
        ]

    def __enter__(self) -> WindowHolders:
        for t in self._threads:
            t.start()
        if self.k:  # every holder has opened its first window
            deadline = time.monotonic() + 10 + self.hold_s
            while self.opened < self.k and time.monotonic() < deadline:
                time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(self.hold_s + 30)

    def _run(self, i: int) -> None:
        if self._stop.wait(i * self.hold_s / max(self.k, 1)):
            return
        while not self._stop.is_set():
            try:
                with self.mode.broadcast_window():
                    with self._lock:
                        self.opened += 1
                    self._stop.wait(self.hold_s)
            except (UnsafeToSend, TransientError):
                with self._lock:
                    self.refused += 1
                self._stop.wait(0.05)
