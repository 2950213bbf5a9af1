"""The throwaway stack a local drill runs on, with nothing to install: the demo's embedded
PostgreSQL, broker Redis and anvil, a mode-store Redis of its own (or the broker's, with
`same_redis`), a miner the drill can pause, the venue (the simple router, or the local
GMX venue with a dev keeper filling every request), funded followers, heartbeat, two
prefork workers and beat. Every fault is injected by PID or by a command to that Redis."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

from core.demo.embedded import Embedded, wait_until
from core.demo.scenario import PRICES
from core.demo.stack import (
    PASSWORD,
    deploy_gmx,
    go_live,
    keystore,
    migrate_and_deploy,
    settings_env,
    start_beats,
    start_processes,
    wait_ready,
)
from core.domain.risk import Policy
from core.domain.sizing import parse_sizing, usd_to_e6
from core.domain.types import USD

BLOCK_S = 0.5
VENUES = ("simple", "gmx")
FOLLOWER_USDC = 10_000 * USD  # each follower's mock USDC on the local GMX venue


class LocalStack:
    def __init__(
        self,
        directory: Path,
        same_redis: bool = False,
        followers: int = 4,
        beats: int = 1,
        venue: str = "simple",
        block_s: float = BLOCK_S,
        **settings: str,
    ) -> None:
        if venue not in VENUES:
            raise ValueError(f"venue {venue!r}: one of {', '.join(VENUES)}")
        self.venue = venue
        self.block_s = block_s  # the chain's clock: a block every block_s seconds
        self.gmx: Any = None  # the local GMX deployment, and its keeper (the deployer)
        self._keeper: Any = None
        self.emb = Embedded(directory)
        self.beats = beats
        self.settings = settings  # COPYTRADE_* overrides
        self.same_redis = same_redis
        self.n_followers = followers
        self.env: dict[str, str] = {}
        self.s: Any = None
        self.leader = ""
        self.followers: list[tuple[int, str]] = []
        self._mining = threading.Event()
        self._closing = threading.Event()
        self._miner: threading.Thread | None = None

    @property
    def dir(self) -> Path:
        return self.emb.dir

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> Any:
        # start-up cost: eth_account and coincurve (~0.5 s)
        from core.adapters.signers.local import LocalSigner

        emb = self.emb
        emb.start_postgres()
        emb.start_redis()
        if not self.same_redis:
            self._start_mode_store(keep_data=False)
        emb.start_anvil(block_time=None)  # mined by our own clock, which a drill can pause
        self._mining.set()
        self._miner = threading.Thread(target=self._mine, daemon=True, name="miner")
        self._miner.start()
        extra = {
            "COPYTRADE_PROFILE": "standard",
            "COPYTRADE_OPERATOR": "drill",
            "COPYTRADE_STUCK_AFTER_S": "2",
            "COPYTRADE_STUCK_SCAN_PERIOD_S": "0.5",
            "COPYTRADE_RECONCILE_PERIOD_S": "1",
            "COPYTRADE_RECONCILE_IDLE_AFTER_S": "3",
            "COPYTRADE_RPC_TIMEOUT_S": "3",
        }
        if not self.same_redis:
            extra["COPYTRADE_MODE_REDIS_URL"] = f"unix://{self.mode_socket}?db=0"
        extra.update(self.settings)
        if self.venue == "gmx":
            self.s, self.env, self.gmx, self._keeper = deploy_gmx(settings_env(emb, **extra))
        else:
            self.s, self.env = migrate_and_deploy(settings_env(emb, **extra))
        self.leader = LocalSigner.from_key(os.urandom(32)).address
        self.s.registry.add_leader(self.leader, "drill")
        self.add_followers(self.n_followers, self.leader)
        if self.gmx is not None:
            self._start_keeper()
        wait_ready(emb, start_processes(emb, self.env, beats=self.beats))
        go_live(self.s, "drill")
        return self.s

    def add_followers(self, n: int, leader: str, sizing: str = "ratio:1") -> None:
        """`n` funded followers of `leader` (keystores in the stack's directory)."""
        lid = self.s.registry.leader_id(leader)
        keys = self.dir / "keys"
        keys.mkdir(exist_ok=True)
        refs = []
        for _ in range(n):
            ref, address = keystore(keys)
            refs.append(ref)
            self.s.chain.rpc("anvil_setBalance", address, hex(10**19))
            policy = Policy(10, 10**12, frozenset({"BTC", "ETH"}), parse_sizing(sizing))
            fid = self.s.registry.add_follower(
                tg_user_id=5000 + len(self.followers),
                leader_id=lid,
                signer_ref=ref,
                address=address,
                policy=policy,
                in_cohort=True,
                actor="drill",
            )
            self.followers.append((fid, address))
        if self.gmx is not None:
            self._fund(refs)

    def _fund(self, refs: list[str]) -> None:
        """Mock USDC for each new follower and GMX's router approved for it."""
        from core.adapters.gmx.local import fund_followers  # start-up cost: web3
        from core.adapters.signers.factory import from_keystore  # start-up cost: eth_account

        signers = [from_keystore(r.removeprefix("keystore:"), PASSWORD) for r in refs]
        fund_followers(self.s.chain, self._keeper, 31337, self.gmx, signers, FOLLOWER_USDC)

    def _start_keeper(self) -> None:
        """A dev keeper executing every request as soon as it sees it, until `stop`."""
        from core.adapters.gmx.keeper import DevKeeper  # start-up cost: web3

        prices = {a: usd_to_e6(p) for a, p in PRICES.items()}
        keeper = DevKeeper(self.s.chain, self._keeper, 31337, self.gmx, prices, delay_s=0)
        threading.Thread(
            target=keeper.run,
            kwargs={"period_s": 0.2, "stop": self._closing},
            daemon=True,
            name="keeper",
        ).start()

    def restart_beats(self) -> None:
        """Start the beat processes again (after a test killed them)."""
        start_beats(self.emb, self.env, self.beats)

    def stop(self) -> None:
        self._closing.set()
        if self._miner is not None:
            self._miner.join(5)
        self.emb.stop()

    # -- the chain's clock -------------------------------------------------------------
    def _mine(self) -> None:
        from core.adapters.chain import Chain  # start-up cost: web3 (~0.7 s)

        chain = Chain(self.emb.rpc_url)
        while not self._closing.wait(self.block_s):
            if self._mining.is_set():
                try:
                    chain.rpc("evm_mine")
                except Exception:  # noqa: BLE001 - anvil stopping: the loop ends with us
                    continue

    def pause_mining(self) -> None:
        self._mining.clear()

    def resume_mining(self) -> None:
        self._mining.set()

    # -- the mode store ----------------------------------------------------------------
    @property
    def mode_socket(self) -> Path:
        return self.dir / "mode.sock" if not self.same_redis else self.dir / "redis.sock"

    @property
    def mode_name(self) -> str:
        return "redis" if self.same_redis else "mode-redis"

    def _start_mode_store(self, keep_data: bool) -> None:
        data = self.dir / "mode-data"
        data.mkdir(exist_ok=True)
        if not keep_data:
            (data / "dump.rdb").unlink(missing_ok=True)
        self.mode_socket.unlink(missing_ok=True)
        self.emb.start_redis(self.mode_name, self.mode_socket, data)

    def mode_client(self) -> Any:
        import redis  # start-up cost: redis-py (~40 ms), only for the mode-store faults

        db = 1 if self.same_redis else 0  # Embedded.env(): the broker is db 0, mode db 1
        return redis.Redis(unix_socket_path=str(self.mode_socket), db=db, socket_timeout=2)

    def mode_pid(self) -> int:
        return self.emb.procs[self.mode_name].pid

    def kill_mode_store(self) -> None:
        os.kill(self.mode_pid(), signal.SIGKILL)
        self.emb.procs[self.mode_name].wait(5)

    def restart_mode_store(self, keep_data: bool = False) -> None:
        """Start it again, empty or from the RDB file a `save_mode_store` wrote."""
        if self.same_redis:
            data = self.dir / "mode-data"
            data.mkdir(exist_ok=True)
            if not keep_data:
                (data / "dump.rdb").unlink(missing_ok=True)
            self.mode_socket.unlink(missing_ok=True)
            self.emb.start_redis("redis", self.mode_socket, data)
        else:
            self._start_mode_store(keep_data)
        wait_until(lambda: self.mode_client().ping(), 10, "mode store")

    def save_mode_store(self) -> None:
        """Write the store (with its current streak) to its RDB file, as a backup would."""
        if self.same_redis:
            self.mode_client().config_set("dir", str(self.dir / "mode-data"))
        self.mode_client().save()

    def hang_mode_store(self) -> None:
        os.kill(self.mode_pid(), signal.SIGSTOP)

    def unhang_mode_store(self) -> None:
        os.kill(self.mode_pid(), signal.SIGCONT)

    def flush_mode_store(self) -> None:
        self.mode_client().flushdb()
