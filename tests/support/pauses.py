"""Drive the named pause points of core/faults.py from a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import procs

_FILES = ("armed", "reached", "release", "passed")


class Pause:
    def __init__(self, directory: Path, name: str) -> None:
        self.dir = directory
        self.name = name

    def _f(self, suffix: str) -> Path:
        return self.dir / f"{self.name}.{suffix}"

    def arm(self) -> None:
        for s in ("reached", "release", "passed"):
            self._f(s).unlink(missing_ok=True)
        self._f("armed").write_text("1")

    def wait_reached(self, timeout: float = 30) -> int:
        procs.wait_until(lambda: self._f("reached").exists(), timeout, f"pause {self.name}")
        self._f("armed").unlink(missing_ok=True)  # only the first comer stops here
        return int(self._f("reached").read_text())

    def release(self, timeout: float = 30) -> None:
        """Let the paused process go on, and return once it has gone past the point (the
        release file is kept until then: a process polling every 10 ms must see it)."""
        self._f("release").write_text("1")
        if self._f("reached").exists():
            procs.wait_until(lambda: self._f("passed").exists(), timeout, f"past {self.name}")

    def clear(self) -> None:
        for s in _FILES:
            self._f(s).unlink(missing_ok=True)


@contextmanager
def paused(directory: Path, name: str) -> Iterator[Pause]:
    """Arm `name`; on the way out release whoever reached it, wait until it has gone on,
    then clear the point."""
    p = Pause(directory, name)
    p.arm()
    try:
        yield p
    finally:
        try:
            p.release()
        finally:
            p.clear()
