"""Shared fixtures. Tiers: unit (pure), integration (real PostgreSQL / anvil), e2e (real
prefork Celery workers). Every server a test needs is its own: a fresh database on the
machine's PostgreSQL, a private redis-server and anvil on free ports, stopped by PID."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import procs
from tests.support.chain import ANVIL_KEY0, PASSWORD
from tests.support.databases import fresh_database

BLOCK_MS = 500
HEALTH_PERIOD = "0.5"


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("copytrade")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, uniquely named database, migrated to head, dropped afterwards."""
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
def broker_url(session_dir: Path) -> Iterator[str]:
    proc, url = procs.start_redis(session_dir)
    yield url + "/0"
    # Celery's AsyncResult unsubscribes from the result store in __del__; one left in a
    # reference cycle was collected only at pytest's unconfigure, after this Redis had
    # stopped, and retried its reconnect for about 20 s each (10 minutes at the end of a
    # make test): collect them while Redis still answers.
    gc.collect()
    proc.stop()


@pytest.fixture(scope="session")
def node_url(session_dir: Path) -> Iterator[str]:
    """The suite's node: anvil, or Hardhat's with COPYTRADE_TEST_NODE=hardhat."""
    proc, url = procs.start_node(session_dir, BLOCK_MS)
    yield url
    proc.stop()


@dataclass
class Stack:
    env: dict[str, str]
    dir: Path
    venue: str
    rpc_url: str
    db_url: str

    def services(self):  # type: ignore[no-untyped-def]
        from core.bootstrap import services

        return services()


@pytest.fixture(scope="session")
def stack(pg_url: str, broker_url: str, node_url: str, session_dir: Path) -> Iterator[Stack]:
    """Settings for this process and the workers it starts; the venue deployed."""
    from config.settings import get_settings
    from core import bootstrap
    from core.adapters.chain import Chain
    from core.adapters.signers.local import LocalSigner
    from core.adapters.venue_admin import deploy
    from core.domain.types import Mode

    pause_dir = session_dir / "pause"
    pause_dir.mkdir(exist_ok=True)
    chain = Chain(node_url)
    venue = deploy(
        chain,
        LocalSigner.from_key(ANVIL_KEY0),
        31337,
        {"BTC": 100_000 * 10**6, "ETH": 3_000 * 10**6, "SOL": 150 * 10**6},
    )
    env = {
        "COPYTRADE_DATABASE_URL": pg_url,
        "COPYTRADE_BROKER_URL": broker_url,
        "COPYTRADE_MODE_REDIS_URL": broker_url.rsplit("/", 1)[0] + "/1",
        "COPYTRADE_RPC_URL": node_url,
        "COPYTRADE_CHAIN_ID": "31337",
        "COPYTRADE_VENUE_ADDRESS": venue,
        "COPYTRADE_PROFILE": "standard",
        "COPYTRADE_CONFIRMATIONS": "2",
        "COPYTRADE_KEYSTORE_PASSWORD": PASSWORD,
        "COPYTRADE_WATCH_PERIOD_S": "0.25",
        "COPYTRADE_HEALTH_PERIOD_S": HEALTH_PERIOD,
        "COPYTRADE_OPERATOR": "pytest",
        "COPYTRADE_TEST_PAUSE_DIR": str(pause_dir),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    get_settings.cache_clear()
    bootstrap.reset()
    mode = bootstrap.services().mode
    mode.request(Mode.LIVE, "pytest", "test session")
    heart = procs.start_heartbeat(session_dir, dict(os.environ), "session")
    try:
        procs.wait_until(lambda: mode.verdict().live, 10, "LIVE after three heartbeats")
        yield Stack(dict(os.environ), session_dir, venue, node_url, pg_url)
    finally:
        heart.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    get_settings.cache_clear()
    bootstrap.reset()


@pytest.fixture(scope="session")
def workers(stack: Stack) -> Iterator[list[procs.Proc]]:
    """Two real prefork worker processes (two children each) and a beat."""
    started: list[procs.Proc] = []
    try:
        for i in range(2):
            started.append(procs.start_worker(stack.dir, stack.env, f"w{i}"))
        started.append(procs.start_beat(stack.dir, stack.env))
        yield started
    finally:
        for p in started:
            p.stop()
