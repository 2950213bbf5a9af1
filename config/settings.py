"""Settings: the only reader of the environment (prefix COPYTRADE_)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_serializer, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Settings that are URLs which may carry a credential: a password in the user info
# (PostgreSQL, Redis), or an API key in the path or query (a hosted RPC provider's).
URL_SETTINGS = (
    "database_url",
    "broker_url",
    "mode_redis_url",
    "rpc_url",
    "rpc_fallback_urls",
    "gmx_oracle_url",
    "result_backend_url",
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COPYTRADE_", extra="ignore")

    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5432/copytrade"
    # How this process's sessions are named in pg_stat_activity (e.g. worker / heartbeat).
    db_application_name: str = Field("copytrade", max_length=63)
    broker_url: str = "redis://127.0.0.1:6379/0"
    # One publish waits at most this long per try for the broker (a hung Redis answers
    # nothing): an intake answers `accepted, dispatched: false` and the reconciler
    # dispatches (at most 4 tries, so about 4 x this + 0.7 s in all). Producers only (the
    # intake of the API and CLI): a worker's own sockets wait as Celery's defaults.
    broker_publish_timeout_s: float = Field(1.0, gt=0, le=30)
    # Where `copytrade.submit_signal` (that task only) keeps its answer for the producer's
    # `.get()`: empty = the broker's Redis, or `rpc://` on RabbitMQ; kept this long.
    result_backend_url: str = ""
    result_expires_s: int = Field(3600, ge=60)
    mode_redis_url: str = "redis://127.0.0.1:6379/1"
    rpc_url: str = "http://127.0.0.1:8545"
    rpc_fallback_urls: str = ""  # comma-separated; used in order when rpc_url fails
    rpc_timeout_s: float = 10.0
    rpc_retry_primary_after_s: float = 30.0
    # Calls per JSON-RPC batch (a hosted provider's limit: Alchemy/Infura accept 100-1000);
    # a batch the node refuses as too large halves it for the process, down to single calls.
    rpc_batch_max: int = Field(500, ge=1, le=5000)
    # `status` says "no new block for N s" when the head is older than this.
    head_stall_s: float = Field(60.0, gt=0)
    chain_id: int = 31337
    # The venue: `simple` (contracts/PerpRouter.sol: the mined order is the fill) or `gmx`
    # (GMX v2: a request a keeper executes; docs/venues.md). On gmx, venue_address is the
    # ExchangeRouter (empty: the one in gmx_contracts or the SDK's for chain_id).
    venue: str = Field("simple", pattern="^(simple|gmx)$")
    venue_address: str = ""
    # GMX: JSON of the contracts {exchange_router, router, order_vault, reader, data_store,
    # event_emitter, usdc} (empty: the SDK's for chain_id 42161/43114); the markets
    # {"ETH": {"market": "0x…", "index_decimals": 18}}; the reference prices: the oracle
    # keeper's URL, or a JSON fixture {"ETH": 2000000000}. The execution fee is read from the
    # venue and sized for fee_ceiling_wei (decision 0022).
    gmx_contracts: str = ""
    gmx_markets: str = ""
    gmx_oracle_url: str = ""
    gmx_prices: str = ""
    confirmations: int = Field(2, ge=1)
    max_signal_age_s: int = Field(120, ge=1)
    # An issued_at further ahead of this machine's clock is rejected (future_issued_at).
    max_future_skew_s: int = Field(5, ge=0, le=300)
    profile: str = Field("canary", pattern="^(canary|standard)$")
    gas_limit: int = 200_000
    # How long the venue's terms (minimums, the keeper's gas for the execution fee) are
    # kept before they are read again.
    venue_terms_ttl_s: float = Field(60.0, gt=0)
    low_balance_wei: int = Field(10**16, ge=0)  # `status` lists signers under this (0.01 ETH)
    # A GMX subaccount running low: `status` and the CopytradeSubaccountLow alert name it at
    # this many actions left, or this close to its expiry.
    subaccount_low_actions: int = Field(20, ge=0)
    subaccount_low_s: int = Field(86_400, ge=0)
    # Notifications (docs/followers.md): the drain's period, pacing and retries; where the
    # operator hears alerts; the bot that writes to followers whose destination is
    # `telegram` (their chat: tg_user_id); the transaction link in a message.
    notify_period_s: float = Field(1.0, gt=0)
    alerts_period_s: float = Field(5.0, gt=0)  # conditions checked for the operator
    # followers' loss limits checked against their venue equity (docs/risk.md)
    loss_guard_period_s: float = Field(10.0, gt=0)
    alert_forced_dry_periods: int = Field(5, ge=1)  # forced DRY this many health periods
    notify_min_interval_s: float = Field(1.0, ge=0)
    notify_max_tries: int = Field(30, ge=1)
    notify_backoff_max_s: float = Field(60.0, gt=0)
    notify_tx_url: str = "{tx_hash}"
    operator_notify_url: SecretStr = SecretStr("")
    telegram_bot_token: SecretStr = SecretStr("")
    min_tip_wei: int = 100_000_000
    kms_region: str = "us-east-1"
    kms_endpoint_url: str = ""  # empty: AWS; set for a KMS-compatible endpoint (tests: moto)
    kms_timeout_s: float = Field(5.0, gt=0)
    kms_max_attempts: int = Field(3, ge=1)  # botocore's standard retry mode
    # Passwords are SecretStr: repr, str and JSON show `**********`; the one reader that
    # needs the value calls .get_secret_value() (keystore_password() below, config/flower.py).
    keystore_password: SecretStr = SecretStr("")
    keystore_password_file: str = ""
    watch_period_s: float = 1.0
    leader_poll_s: float = Field(0.5, gt=0)  # the leader watcher reads new blocks this often
    leader_max_blocks: int = Field(200, ge=1)  # blocks read per round (catching up)
    fee_ceiling_wei: int = Field(500 * 10**9, gt=0)  # maxFeePerGas never above this
    stuck_after_s: float = Field(30.0, gt=0)
    stuck_after_blocks: int = Field(3, ge=1)
    stuck_scan_period_s: float = Field(3.0, gt=0)
    sent_expiry_s: float = Field(600.0, gt=0)  # a sent intent still pending is then cancelled
    reconcile_period_s: float = Field(30.0, gt=0)
    reconcile_idle_after_s: float = Field(10.0, gt=0)  # untouched this long = stopped short
    reconcile_max_tries: int = Field(10, ge=1)  # then pending/created intents end failed
    # A message delivered this long ago that no live worker reports holding is a lost
    # worker's (a live worker lists one among its reserved within milliseconds of taking it).
    redeliver_min_age_s: float = Field(2.0, gt=0)
    health_period_s: float = Field(2.0, gt=0)
    # A broadcast window never stays open longer (its guard refuses the next chunk, and
    # PostgreSQL ends its session): a `stop` waits at most this long for the open ones.
    broadcast_window_s: float = Field(15.0, gt=0)
    broadcast_chunk: int = Field(200, ge=1, le=1000)  # raw transactions per JSON-RPC batch
    mode_read_timeout_s: float = Field(0.25, gt=0, le=2)
    # Test-only: a directory where named pause points wait for a release file
    # (core/faults.py). Unset in production: the points are then no-ops.
    test_pause_dir: str = ""
    log_level: str = "INFO"
    log_format: str = Field("text", pattern="^(text|json)$")  # json: one object per line
    # dev: conveniences for a laptop (Flower may run without credentials); anything that
    # is not a laptop is production.
    deployment: str = Field("production", pattern="^(dev|production)$")
    flower_user: str = ""
    flower_password: SecretStr = SecretStr("")
    # Prometheus: the worker's exporter (0 = off; one port per worker instance on a host),
    # its multiprocess directory (empty: a fresh temporary one), the heartbeat's exporter.
    # Decrypt followers' keystore/env keys in the worker's main process before it forks, so
    # children (and recycled children) start with them (docs/benchmarks.md, B4).
    preload_signers: bool = True
    metrics_port: int = Field(0, ge=0, le=65535)
    metrics_dir: str = ""
    heartbeat_metrics_port: int = Field(0, ge=0, le=65535)
    operator: str = ""  # who runs the CLI, for the audit log

    # The URL settings stay plain str for the code that connects, but no repr, str or JSON
    # of the settings (or of the Services holding them: a traceback's locals, a log line)
    # shows their credentials.
    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, redact_urls(value) if name in URL_SETTINGS else value

    # check_fields=False: a name in URL_SETTINGS may be added to the fields later.
    @field_serializer(*URL_SETTINGS, when_used="json", check_fields=False)
    def _redacted(self, value: str) -> str:
        return redact_urls(value)

    @field_validator("notify_tx_url")
    @classmethod
    def _one_placeholder(cls, value: str) -> str:
        """The transaction link names `{tx_hash}` and nothing else to fill in."""
        try:
            value.format(tx_hash="0x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"COPYTRADE_NOTIFY_TX_URL: only {{tx_hash}} can be filled in ({exc!r})"
            ) from None
        return value


def redact_url(url: str) -> str:
    """`url` without what may be a credential: the password in its user info becomes `***`;
    so does the path and query of an http(s)/ws(s) URL (where hosted RPC providers put the
    API key) and the query of any other (libpq accepts `?password=`)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "***"
    if not parts.scheme or not parts.netloc:
        return "***" if url.strip() else url
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    netloc = f"{user}{':***' if colon else ''}{at}{hostport}"
    path, query = parts.path, parts.query
    if parts.scheme in ("http", "https", "ws", "wss"):
        path = "/***" if path.strip("/") or query else path
        query = ""
    elif query:
        query = "***"
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def redact_urls(value: str) -> str:
    """redact_url for each of a comma-separated list (rpc_fallback_urls)."""
    return ",".join(redact_url(u) for u in value.split(",")) if value else value


class _Given(Settings):
    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **_: Any) -> tuple[Any, ...]:  # type: ignore[no-untyped-def, override]
        return (init_settings,)


def settings_from(env: Mapping[str, str]) -> Settings:
    """Settings from exactly these COPYTRADE_* values and the defaults, whatever this
    process's environment holds (a throwaway stack must not pick up production settings)."""
    given: dict[str, Any] = {
        k.removeprefix("COPYTRADE_").lower(): v
        for k, v in env.items()
        if k.startswith("COPYTRADE_")
    }
    return _Given(**given)


def foreign_env(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any COPYTRADE_* setting, plus `env`: for the
    children of a throwaway stack."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRADE_")}
    return {**keep, **env}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process, read once."""
    return Settings()


def read_secret_env(name: str) -> str | None:
    """Read a secret variable named by a signer reference (`env:VAR`). Kept here so that
    this module remains the only reader of the environment."""
    return os.environ.get(name)


def keystore_password(settings: Settings | None = None) -> str | None:
    """The keystore password: COPYTRADE_KEYSTORE_PASSWORD, else the first line of
    COPYTRADE_KEYSTORE_PASSWORD_FILE, else None (this process's settings by default)."""
    s = get_settings() if settings is None else settings
    if password := s.keystore_password.get_secret_value():
        return password
    if s.keystore_password_file:
        return Path(s.keystore_password_file).read_text().strip()
    return None
