"""Builds the services from settings, lazily, once per process."""

from __future__ import annotations

import logging
import os
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from config.settings import Settings, get_settings
from core.adapters.celery_redelivery import Redelivery
from core.adapters.chain import Chain
from core.adapters.gmx.config import GmxConfig
from core.adapters.gmx.configure import gmx_config
from core.adapters.gmx.venue import GmxVenue
from core.adapters.nonce_audit import audit_nonce
from core.adapters.postgres.accounts import AccountStore
from core.adapters.postgres.attempts import AttemptStore
from core.adapters.postgres.controls import ControlStore
from core.adapters.postgres.db import Database
from core.adapters.postgres.flatten import FlattenStore
from core.adapters.postgres.gate import gate_states
from core.adapters.postgres.guards import GuardStore
from core.adapters.postgres.intents import IntentStore
from core.adapters.postgres.leader_txs import LeaderStore
from core.adapters.postgres.nonces import NonceStore
from core.adapters.postgres.notifications import NotificationStore
from core.adapters.postgres.reads.audit import AuditQueries
from core.adapters.postgres.reads.backlog import BacklogQueries
from core.adapters.postgres.reads.leader_txs import LeaderTxReads
from core.adapters.postgres.reads.queries import Queries
from core.adapters.postgres.receipts import ReceiptStore
from core.adapters.postgres.registry import Registry
from core.adapters.postgres.signals import OPERATOR_SOURCE, SignalStore
from core.adapters.postgres.stalled import ReconcileStore
from core.adapters.postgres.wallet_txs import WalletTxStore
from core.adapters.prices import FixturePrices, OracleKeeperPrices, parse_prices
from core.adapters.redis_mode import RedisModeStore
from core.adapters.signers.factory import preload, resolve
from core.adapters.venue import RecorderVenue
from core.domain.chain import NonceAudit
from core.domain.errors import ConfigError
from core.ports import PriceSource, Venue
from core.services import loss_guard
from core.services.approvals import Approvals
from core.services.execution import ExecutionConfig, Pipeline
from core.services.flatten import Flattener
from core.services.identity import ChainIdentity
from core.services.intake import Intake
from core.services.leader_watch import LeaderWatcher
from core.services.maintenance import Maintenance, MaintenanceConfig
from core.services.mode import ModeService
from core.services.notifying import Notifier, NotifyConfig
from core.services.reconcile import Reconciler
from core.services.watching import Watcher

if TYPE_CHECKING:
    from core.adapters.celery_dispatch import CeleryDispatcher

log = logging.getLogger(__name__)


@dataclass
class Services:
    """The composition root: every adapter is built here, and every service gets the
    adapters as the ports (core/ports.py) it asks for."""

    settings: Settings

    @cached_property
    def db(self) -> Database:
        s = self.settings
        return Database(s.database_url, application_name=s.db_application_name)

    @cached_property
    def chain(self) -> Chain:
        s = self.settings
        urls = [s.rpc_url, *[u.strip() for u in s.rpc_fallback_urls.split(",") if u.strip()]]
        return Chain(
            urls,
            s.rpc_timeout_s,
            self.identity.check,
            s.rpc_retry_primary_after_s,
            chunk=s.broadcast_chunk,
            batch_max=s.rpc_batch_max,
        )

    @cached_property
    def identity(self) -> ChainIdentity:
        return ChainIdentity(self.controls, self.settings.chain_id)

    @cached_property
    def venue(self) -> Venue:
        """COPYTRADE_VENUE: `simple` (the recorder router) or `gmx` (GMX v2)."""
        s = self.settings
        if s.venue == "gmx":
            return GmxVenue(self.gmx)
        return RecorderVenue(s.venue_address)

    @cached_property
    def gmx(self) -> GmxConfig:
        s = self.settings
        cfg = gmx_config(s.chain_id, s.gmx_contracts, s.gmx_markets)
        if s.venue_address and s.venue_address.lower() != cfg.exchange_router.lower():
            raise ConfigError(
                f"COPYTRADE_VENUE_ADDRESS {s.venue_address} is not GMX's ExchangeRouter "
                f"{cfg.exchange_router}: leave it empty on the gmx venue"
            )
        return cfg

    @cached_property
    def venue_address(self) -> str:
        """Where orders go: the router (simple) or GMX's ExchangeRouter."""
        s = self.settings
        return self.gmx.exchange_router if s.venue == "gmx" else s.venue_address

    @cached_property
    def prices(self) -> PriceSource:
        """Reference prices where the venue has none on chain (GMX)."""
        s = self.settings
        if s.gmx_oracle_url:
            decimals = {a: m.index_decimals for a, m in self.gmx.markets.items()}
            return OracleKeeperPrices(s.gmx_oracle_url, decimals)
        try:
            return FixturePrices(parse_prices(s.gmx_prices))
        except ValueError as exc:
            raise ConfigError(f"COPYTRADE_GMX_PRICES: {exc}") from exc

    def audit_nonce(self, address: str, nonce: int, ours: Collection[str]) -> NonceAudit:
        return audit_nonce(self.chain, address, nonce, ours)

    @cached_property
    def queries(self) -> Queries:
        return Queries(self.db)

    @cached_property
    def audit_queries(self) -> AuditQueries:
        return AuditQueries(self.db)

    @cached_property
    def backlog(self) -> BacklogQueries:
        return BacklogQueries(self.db)

    @cached_property
    def leader_txs(self) -> LeaderTxReads:
        return LeaderTxReads(self.db)

    @cached_property
    def registry(self) -> Registry:
        return Registry(self.db)

    @cached_property
    def signals(self) -> SignalStore:
        return SignalStore(self.db, gate_states(self.venue.two_phase))

    @cached_property
    def intents(self) -> IntentStore:
        return IntentStore(self.db)

    @cached_property
    def nonces(self) -> NonceStore:
        return NonceStore(self.db)

    @cached_property
    def receipts(self) -> ReceiptStore:
        return ReceiptStore(self.db)

    @cached_property
    def controls(self) -> ControlStore:
        return ControlStore(self.db)

    @cached_property
    def heartbeat_store(self) -> RedisModeStore:
        s = self.settings
        return RedisModeStore(s.mode_redis_url, s.health_period_s, s.mode_read_timeout_s)

    @cached_property
    def mode(self) -> ModeService:
        s = self.settings
        return ModeService(
            self.controls, self.heartbeat_store, s.health_period_s, s.broadcast_window_s
        )

    @cached_property
    def pipeline(self) -> Pipeline:
        s = self.settings
        cfg = ExecutionConfig(
            s.chain_id,
            s.profile,
            s.max_signal_age_s,
            s.gas_limit,
            s.min_tip_wei,
            s.fee_ceiling_wei,
            s.venue_terms_ttl_s,
        )
        return Pipeline(
            self.signals,
            self.intents,
            self.nonces,
            self.chain,
            self.mode,
            cfg,
            self.venue,
            resolve,
            self.dispatcher,
            self.prices,
        )

    def loss_guard(self) -> dict[int, str]:
        """One loss guard round (core/services/loss_guard.py)."""
        operator = bool(self.settings.operator_notify_url.get_secret_value())
        return loss_guard.check(self.guards, self.pipeline.sizing.equity, operator)

    @cached_property
    def flattener(self) -> Flattener:
        store = FlattenStore(self.registry, self.signals)
        return Flattener(store, self.venue, self.chain, self.dispatcher, OPERATOR_SOURCE)

    @cached_property
    def accounts(self) -> AccountStore:
        return AccountStore(self.db)

    @cached_property
    def guards(self) -> GuardStore:
        return GuardStore(self.db)

    @cached_property
    def approvals(self) -> Approvals:
        s = self.settings
        return Approvals(
            self.venue,
            self.chain,
            self.mode,
            WalletTxStore(self.db),
            resolve,
            s.chain_id,
            (s.min_tip_wei, s.fee_ceiling_wei),
        )

    @cached_property
    def attempts(self) -> AttemptStore:
        return AttemptStore(self.db)

    @cached_property
    def watcher(self) -> Watcher:
        s = self.settings
        return Watcher(
            self.signals,
            self.receipts,
            self.attempts,
            self.chain,
            self.mode,
            s.confirmations,
            self.venue,
            self.receipts,
            self.pipeline.wake_next if self.venue.two_phase else None,
            self.pipeline.resume if self.venue.two_phase else None,
        )

    @cached_property
    def maintenance(self) -> Maintenance:
        s = self.settings
        cfg = MaintenanceConfig(
            s.chain_id,
            s.fee_ceiling_wei,
            s.min_tip_wei,
            s.stuck_after_s,
            s.stuck_after_blocks,
            s.sent_expiry_s,
            s.max_signal_age_s,
            s.confirmations,
        )
        return Maintenance(
            self.attempts,
            self.chain,
            self.mode,
            cfg,
            resolve,
            self.audit_nonce,
            self.venue,
        )

    @cached_property
    def notifications(self) -> NotificationStore:
        return NotificationStore(self.db)

    @cached_property
    def notifier(self) -> Notifier:
        s = self.settings
        cfg = NotifyConfig(
            tx_url=s.notify_tx_url,
            telegram_bot_token=s.telegram_bot_token.get_secret_value(),
            operator_url=s.operator_notify_url.get_secret_value(),
            min_interval_s=s.notify_min_interval_s,
            max_tries=s.notify_max_tries,
            backoff_max_s=s.notify_backoff_max_s,
        )
        from core.adapters.notify_apprise import AppriseSender  # start-up cost: apprise

        return Notifier(self.notifications, AppriseSender(), cfg)

    @cached_property
    def reconciler(self) -> Reconciler:
        s = self.settings
        return Reconciler(
            ReconcileStore(self.db, gate_states(self.venue.two_phase)),
            self.intake.dispatcher,
            self.mode,
            s.reconcile_idle_after_s,
            s.reconcile_max_tries,
        )

    @cached_property
    def leader_watcher(self) -> LeaderWatcher:
        s = self.settings
        return LeaderWatcher(
            LeaderStore(self.db),
            self.chain,
            self.intake,
            self.controls,
            s.chain_id,
            self.venue_address,
            self.venue,
            s.leader_max_blocks,
        )

    @cached_property
    def dispatcher(self) -> CeleryDispatcher:
        # start-up cost: config.celery_app builds the Celery app at import (celery, kombu)
        from config.celery_app import app_for
        from core.adapters.celery_dispatch import CeleryDispatcher  # start-up cost: celery

        return CeleryDispatcher(app_for(self.settings.broker_url))

    @cached_property
    def redelivery(self) -> Redelivery:
        """Messages a lost worker held, restored (core/adapters/celery_redelivery.py)."""
        return Redelivery(self.dispatcher.app)

    @cached_property
    def intake(self) -> Intake:
        return Intake(self.registry, self.signals, self.dispatcher, self.settings.max_future_skew_s)


_services: Services | None = None
_pid = 0


def services() -> Services:
    global _services, _pid
    if _services is None or _pid != os.getpid():
        _services = Services(get_settings())
        _pid = os.getpid()
    return _services


def reset() -> None:
    global _services
    _services = None


def preload_signers() -> int:
    """Decrypt every follower's local key in this process (the worker's main process,
    before forking; see factory.preload), then drop this process's connections so that
    no socket is shared with the children."""
    s = services()
    try:
        refs = [f.signer_ref for f in s.registry.list_followers()]
    except Exception as exc:  # noqa: BLE001 - an optimisation: never stops a worker starting
        log.warning("signers not preloaded (%s): each process resolves them on first use", exc)
        refs = []
    n = preload(refs)
    s.db.dispose()
    reset()
    return n
