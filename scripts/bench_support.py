"""Shared by the benchmark scripts: a stack on the machine's PostgreSQL and Redis (or
RabbitMQ), a spawned anvil and real prefork workers with production settings; the floor
scripts' raw JSON-RPC client; CPU and memory readings of our processes."""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.settings import foreign_env  # noqa: E402
from core.demo.embedded import ANVIL, Embedded, free_port, wait_until  # noqa: E402
from core.demo.stack import PASSWORD, deploy_gmx, go_live, migrate_and_deploy  # noqa: E402

PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
GWEI = 10**9


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes and their children (from /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        for p in [pid, *children(pid)]:
            try:
                fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for t in Path(f"/proc/{pid}/task").iterdir():
            kids = (t / "children").read_text().split()
            for k in kids:
                out += [int(k), *children(int(k))]
    except OSError:
        pass
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Rpc:
    """A bare JSON-RPC client on one keep-alive session (the floor scripts)."""

    def __init__(self, url: str) -> None:
        import requests

        self.url = url
        self.session = requests.Session()
        self.n = 0

    def call(self, method: str, *params: Any) -> Any:
        self.n += 1
        r = self.session.post(
            self.url, json={"jsonrpc": "2.0", "id": self.n, "method": method, "params": params}
        ).json()
        if "error" in r:
            raise RuntimeError(r["error"])
        return r["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        body = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
        ]
        replies = sorted(self.session.post(self.url, json=body).json(), key=lambda r: r["id"])
        return [r.get("result", r.get("error")) for r in replies]


@dataclass
class BenchStack:
    """Machine PostgreSQL (a fresh database) and Redis DBs (or RabbitMQ), spawned anvil,
    heartbeat, workers and beat on production settings."""

    broker: str = "redis"
    venue: str = "simple"  # or "gmx": the local GMX venue (requests; no keeper runs)
    block_time: str = "1"
    workers: int = 1
    concurrency: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="copytrade-bench-")))
    emb: Embedded = field(init=False)
    env: dict[str, str] = field(init=False)
    s: Any = field(init=False)
    gmx: Any = None  # the local GMX deployment (venue "gmx"), deployed by `deployer`
    deployer: Any = None
    db_name: str = field(init=False)
    worker_names: list[str] = field(default_factory=list)

    def start(self) -> None:
        from sqlalchemy import create_engine, text

        # A SIGTERM (timeout, kill) unwinds like Ctrl-C: every child stopped, the DB dropped.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

        self.emb = Embedded(self.dir)
        self.db_name = f"ct_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.db_name}"'))
        admin.dispose()
        anvil_port = free_port()
        self.emb.spawn(
            "anvil",
            [
                str(ANVIL),
                "--port",
                str(anvil_port),
                "--host",
                "127.0.0.1",
                "--silent",
                "--block-time",
                self.block_time,
                "--gas-limit",
                "1000000000",
                "--order",
                "fifo",
            ],
        )
        rpc = f"http://127.0.0.1:{anvil_port}"
        wait_until(lambda: Rpc(rpc).call("eth_chainId"), 20, "anvil")
        if self.broker == "redis":
            import redis

            for db in (12, 13):
                redis.Redis(db=db).flushdb()
            broker = "redis://127.0.0.1:6379/12"
        else:
            broker = "amqp://guest:guest@127.0.0.1:5672//"
            self._purge_amqp(broker)
        env = {
            "COPYTRADE_DATABASE_URL": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.db_name}",
            "COPYTRADE_BROKER_URL": broker,
            "COPYTRADE_MODE_REDIS_URL": "redis://127.0.0.1:6379/13",
            "COPYTRADE_RPC_URL": rpc,
            "COPYTRADE_CHAIN_ID": "31337",
            "COPYTRADE_PROFILE": "standard",
            "COPYTRADE_KEYSTORE_PASSWORD": PASSWORD,
            **self.extra_env,
        }
        if self.venue == "gmx":
            env["COPYTRADE_GAS_LIMIT"] = str(GMX_GAS)
            self.s, self.env, self.gmx, self.deployer = deploy_gmx(env)
        else:
            self.s, self.env = migrate_and_deploy(env)

    @staticmethod
    def _purge_amqp(url: str) -> None:
        from kombu import Connection

        with Connection(url) as c:
            for q in ("intake", "execution", "watch"):
                with suppress(Exception):  # not declared yet
                    c.default_channel.queue_purge(q)

    def start_processes(self) -> None:
        child = foreign_env(self.env)
        self.emb.spawn("heartbeat", [sys.executable, "-m", "core.cli", "heartbeat"], env=child)
        # The production topology (docker-compose.yml): the hot path (intake, execution)
        # on its own workers, receipts and maintenance (watch) on another.
        for i in range(self.workers):
            self.start_worker(i)
        level = os.environ.get("BENCH_LOG", "WARNING")
        self.emb.celery(
            "watcher",
            "worker",
            "-P",
            "prefork",
            "-c",
            "1",
            "-n",
            "bw@%h",
            "-Q",
            "watch",
            "-l",
            level,
            env=child,
        )
        self.worker_names.append("watcher")
        self.emb.celery(
            "beat", "beat", "-s", str(self.dir / "beat-schedule"), "-l", "WARNING", env=child
        )
        wait_until(lambda: self._workers_up(), 120, "workers")
        go_live(self.s, "bench")

    def start_worker(self, i: int) -> None:
        """Hot-path worker `i` (intake, execution), or the same one again after a kill."""
        name = f"worker{i}"
        self.emb.celery(
            name,
            "worker",
            "-P",
            "prefork",
            "-c",
            str(self.concurrency),
            "-n",
            f"b{i}@%h",
            "-Q",
            "intake,execution",
            "-l",
            os.environ.get("BENCH_LOG", "WARNING"),
            env=foreign_env(self.env),
        )
        if name not in self.worker_names:
            self.worker_names.append(name)

    def add_worker(self) -> None:
        """One more hot-path worker process, waited for until it answers a ping."""
        self.start_worker(sum(n.startswith("worker") for n in self.worker_names))
        wait_until(lambda: self._workers_up(), 120, "the new worker")

    def kill_worker(self, i: int = 0) -> None:
        """SIGKILL hot-path worker `i`: its main process and its pool, at once."""
        p = self.emb.procs[f"worker{i}"]
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(10)

    def _workers_up(self) -> bool:
        app = self.s.intake.dispatcher.app
        replies = app.control.ping(timeout=0.5)
        return len(replies) >= len(self.worker_names)

    def worker_pids(self) -> list[int]:
        return [self.emb.procs[n].pid for n in self.worker_names]

    def followers(
        self, n: int, leader: str, eth: int = 10, also: tuple[str, ...] = ()
    ) -> list[tuple[int, str, str]]:
        """`n` followers (ratio:1), each with its own funded keystore wallet; a wallet's
        account also follows each leader of `also` (one following each)."""
        from concurrent.futures import ThreadPoolExecutor

        from eth_account import Account

        from core.domain.risk import Policy
        from core.domain.sizing import parse_sizing

        lid = self.s.registry.leader_id(leader)
        others = [self.s.registry.leader_id(x) for x in also]
        keys = self.dir / "keys"
        keys.mkdir(exist_ok=True)
        rpc = Rpc(self.env["COPYTRADE_RPC_URL"])
        policy = Policy(10, 10**12, frozenset({"BTC", "ETH"}), parse_sizing("ratio:1"), 50)

        def add(_: int) -> tuple[int, str, str]:
            key = "0x" + secrets.token_hex(32)
            acct = Account.from_key(key)
            path = keys / f"{acct.address}.json"
            data = Account.encrypt(key, PASSWORD, kdf="pbkdf2", iterations=1000)
            path.write_text(json.dumps(data))
            row = {
                "tg_user_id": 1,
                "signer_ref": f"keystore:{path}",
                "address": acct.address,
                "policy": policy,
                "in_cohort": True,
                "actor": "bench",
            }
            fid = self.s.registry.add_follower(leader_id=lid, **row)
            if others:
                account = self.s.registry.follower(fid).account_id
                for other in others:
                    self.s.registry.add_follower(leader_id=other, account_id=account, **row)
            return fid, acct.address, key

        with ThreadPoolExecutor(4) as pool:  # the inserts' round trips overlap
            out = list(pool.map(add, range(n)))
        calls = [("anvil_setBalance", [a, hex(eth * 10**18)]) for _, a, _ in out]
        for i in range(0, len(calls), 500):
            rpc.batch(calls[i : i + 500])
        if self.gmx is not None:  # mock USDC, and GMX's router approved for it
            from core.adapters.gmx.local import fund_followers
            from core.adapters.signers.local import LocalSigner
            from core.domain.types import USD

            signers = [LocalSigner.from_key(k) for _, _, k in out]
            for i in range(0, len(signers), 250):
                fund_followers(
                    self.s.chain, self.deployer, 31337, self.gmx, signers[i : i + 250], 10_000 * USD
                )
        return out

    def stop(self) -> None:
        from sqlalchemy import create_engine, text

        self.emb.stop()
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"logs in {self.emb.logs}")
        self.s.db.dispose()
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        admin.dispose()


GMX_GAS = 1_000_000  # a local GMX request's gas limit (it uses ~0.5 M)


@contextmanager
def bench_stack(**kw: Any) -> Iterator[BenchStack]:
    b = BenchStack(**kw)
    try:
        b.start()
        yield b
    finally:
        b.stop()


def wait_for(check: Callable[[], bool], timeout: float, what: str, poll: float = 0.005) -> float:
    """Seconds until `check()` (raises after `timeout`)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if check():
            return time.perf_counter() - t0
        time.sleep(poll)
    raise TimeoutError(what)


def post_json(url: str, body: Any) -> Any:
    req = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    return json.loads(urllib.request.urlopen(req, timeout=30).read())


def signal_payload(leader: str, action: str, collateral_usd_1e6: int) -> dict[str, Any]:
    """A BTC long signal at 2x and a 100,000 USD reference price, with a fresh id."""
    return {
        "schema": 1,
        "signal_id": f"bench-{secrets.token_hex(8)}",
        "leader": leader,
        "action": action,
        "asset": "BTC",
        "side": "long",
        "collateral_usd_1e6": collateral_usd_1e6,
        "leverage_x": 2,
        "price_usd_1e6": 100_000 * 10**6,
    }
