"""Bringing up a whole copytrade on an Embedded stack: settings, schema, venue, keystores,
heartbeat, two prefork workers and beat. Shared by `copytrade demo` and the local drills."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.settings import foreign_env, get_settings, settings_from
from core.demo.embedded import Embedded, check_interrupt, wait_until
from core.demo.scenario import PRICES
from core.domain.sizing import usd_to_e6
from core.domain.types import Mode

PASSWORD = "demo-only"  # the throwaway keystores of a throwaway stack


def settings_env(emb: Embedded, **extra: str) -> dict[str, str]:
    return {
        **emb.env(),
        "COPYTRADE_CHAIN_ID": "31337",
        "COPYTRADE_CONFIRMATIONS": "2",
        "COPYTRADE_HEALTH_PERIOD_S": "0.5",
        "COPYTRADE_WATCH_PERIOD_S": "0.25",
        "COPYTRADE_KEYSTORE_PASSWORD": PASSWORD,
        **extra,
    }


def services_for(env: dict[str, str]) -> Any:
    """Services on exactly these settings (this process's environment not consulted)."""
    # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)
    from core.bootstrap import Services

    return Services(settings_from(env))


def use(env: dict[str, str]) -> Any:
    """Point this process's settings and services at the stack."""
    # start-up cost: core.bootstrap loads web3, sqlalchemy and every adapter (~2 s)
    from core import bootstrap

    for k in [k for k in os.environ if k.startswith("COPYTRADE_") and k not in env]:
        del os.environ[k]  # nothing of the caller's own settings
    os.environ.update(env)
    get_settings.cache_clear()
    bootstrap.reset()
    return bootstrap.services()


def keystore(directory: Path) -> tuple[str, str]:
    """A fresh key in a keystore file: (signer ref, address)."""
    from eth_account import Account  # start-up cost: eth_account (~0.5 s)

    key = "0x" + secrets.token_hex(32)
    acct = Account.from_key(key)
    path = directory / f"{acct.address}.json"
    path.write_text(
        json.dumps(Account.encrypt(bytes.fromhex(key[2:]), PASSWORD, kdf="pbkdf2", iterations=1000))
    )
    return f"keystore:{path}", acct.address


def migrate_and_deploy(env: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """Schema at head and the venue deployed by a throwaway funded key (written nowhere);
    returns the services and the env with COPYTRADE_VENUE_ADDRESS."""
    from core.adapters.postgres.migrate import upgrade  # start-up cost: alembic, sqlalchemy
    from core.adapters.signers.local import LocalSigner  # start-up cost: eth_account, coincurve
    from core.adapters.venue_admin import deploy  # start-up cost: web3

    s = services_for(env)
    upgrade(s.settings.database_url)
    deployer = LocalSigner.from_key(secrets.token_hex(32))
    s.chain.rpc("anvil_setBalance", deployer.address, hex(10**20))
    venue = deploy(s.chain, deployer, 31337, {a: usd_to_e6(p) for a, p in PRICES.items()})
    env = {**env, "COPYTRADE_VENUE_ADDRESS": venue}
    return services_for(env), env


def deploy_gmx(env: dict[str, str]) -> tuple[Any, dict[str, str], Any, Any]:
    """Schema at head and the local GMX-compatible venue deployed by a throwaway funded key
    (written nowhere; it is also the venue's keeper); returns the services, the env with
    the COPYTRADE_GMX_* settings, the deployment and the deployer."""
    from core.adapters.gmx.local import deploy_local_gmx, settings_for  # start-up cost: web3
    from core.adapters.postgres.migrate import upgrade  # start-up cost: alembic, sqlalchemy
    from core.adapters.signers.local import LocalSigner  # start-up cost: eth_account, coincurve

    s = services_for(env)
    upgrade(s.settings.database_url)
    deployer = LocalSigner.from_key(secrets.token_hex(32))
    s.chain.rpc("anvil_setBalance", deployer.address, hex(10**20))
    gmx = deploy_local_gmx(s.chain, deployer, 31337, {"BTC": 8, "ETH": 18})
    env = {
        **env,
        **settings_for(gmx),
        "COPYTRADE_VENUE_ADDRESS": "",
        "COPYTRADE_GMX_PRICES": json.dumps({a: usd_to_e6(p) for a, p in PRICES.items()}),
        "COPYTRADE_GAS_LIMIT": "3000000",
    }
    return services_for(env), env, gmx, deployer


def start_processes(
    emb: Embedded, env: dict[str, str], workers: int = 2, beats: int = 1
) -> list[str]:
    """Heartbeat, `workers` prefork workers (2 children each) and beat; returns the
    workers' names (see `wait_ready`)."""
    child_env = foreign_env(env)  # nothing of the caller's COPYTRADE_* settings
    emb.spawn("heartbeat", [sys.executable, "-m", "core.cli", "heartbeat"], env=child_env)
    names = [f"worker{i}" for i in range(workers)]
    for i, name in enumerate(names):
        emb.celery(
            name,
            "worker",
            "-P",
            "prefork",
            "-c",
            "2",
            "-n",
            f"ct{i}@%h",
            "-Q",
            "intake,execution,watch,notify",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
            env=child_env,
        )
    start_beats(emb, env, beats)
    return names


def start_beats(emb: Embedded, env: dict[str, str], beats: int = 1) -> None:
    for b in range(beats):
        name = "beat" if b == 0 else f"beat{b}"
        schedule = str(emb.dir / f"{name}-schedule")
        emb.celery(name, "beat", "-s", schedule, "-l", "INFO", env=foreign_env(env))


def wait_ready(emb: Embedded, names: list[str]) -> None:
    for name in names:
        log = emb.logs / f"{name}.log"
        wait_until(lambda log=log: "ready." in log.read_text(), 60, name)


def go_live(s: Any, actor: str, on_wait: Callable[[Any], None] = lambda v: None) -> Any:
    """Request LIVE and wait for the effective mode (three consecutive heartbeats)."""
    s.mode.request(Mode.LIVE, actor, f"{actor} run")
    deadline = time.monotonic() + 30
    while not (v := s.mode.verdict()).live:
        check_interrupt()
        on_wait(v)
        if time.monotonic() > deadline:
            raise RuntimeError(f"never became LIVE: {v.reason}")
        time.sleep(0.05)
    return v
