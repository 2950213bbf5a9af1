"""Drive the named pause points of core/faults.py from a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import procs


class Pause:
    def __init__(self, directory: Path, name: str) -> None:
        self.dir = directory
        self.name = name

    def _f(self, suffix: str) -> Path:
        return self.dir / f"{self.name}.{suffix}"

    def arm(self) -> None:
        for s in ("reached", "release"):
            self._f(s).unlink(missing_ok=True)
        self._f("armed").write_text("1")

    def wait_reached(self, timeout: float = 30) -> int:
        procs.wait_until(lambda: self._f("reached").exists(), timeout, f"pause {self.name}")
        self._f("armed").unlink(missing_ok=True)  # only the first comer stops here
        return int(self._f("reached").read_text())

    def release(self) -> None:
        self._f("release").write_text("1")

    def clear(self) -> None:
        for s in ("armed", "reached", "release"):
            self._f(s).unlink(missing_ok=True)


@contextmanager
def paused(directory: Path, name: str) -> Iterator[Pause]:
    p = Pause(directory, name)
    p.arm()
    try:
        yield p
    finally:
        p.release()
        p.clear()
