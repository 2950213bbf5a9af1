"""The state of the system as Prometheus gauges, read at every scrape (the heartbeat's
exporter, COPYTRADE_HEARTBEAT_METRICS_PORT): mode and why, streak, heartbeat age, stop,
intents by state, stuck, signed past max age, nonces used outside, low balances, queues.

Each part is read on its own: a part that cannot be read (PostgreSQL down, the node
unreachable) is left out of that scrape and `copytrade_state_read_ok{part}` says 0, so an
outage is an alert of its own and never a scrape error that hides the other parts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from core.domain.states import IntentState
from core.domain.types import Mode
from core.services.status import low_balance_wei, subaccounts_low

log = logging.getLogger(__name__)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


class StateCollector:
    """A prometheus_client collector over the services (`core.bootstrap.Services`)."""

    def __init__(self, services: Any) -> None:
        self.s = services

    def describe(self) -> Iterable[Metric]:
        return []  # nothing is read when the collector is registered

    def collect(self) -> Iterator[Metric]:
        ok = GaugeMetricFamily(
            "copytrade_state_read_ok",
            "1 when this part of the system state was read at this scrape, else 0.",
            labels=["part"],
        )
        parts: dict[str, Callable[[], list[Metric]]] = {
            "mode": self._mode,
            "intents": self._intents,
            "balances": self._balances,
            "broker": self._broker,
        }
        for part, read in parts.items():
            try:
                got = read()
            except Exception as exc:  # an unreadable part must not hide the others
                log.warning("state metrics: %s unreadable: %s", part, type(exc).__name__)
                ok.add_metric([part], 0)
                continue
            ok.add_metric([part], 1)
            yield from got
        yield ok

    def _mode(self) -> list[Metric]:
        mode = self.s.mode
        requested = mode.requested()
        v = mode.verdict()
        live_wanted = requested is Mode.LIVE
        age = math.inf if v.heartbeat_age_s is None else float(v.heartbeat_age_s)
        return [
            _gauge("copytrade_mode_requested_live", "1 when LIVE is requested.", live_wanted),
            _gauge("copytrade_mode_effective_live", "1 when the effective mode is LIVE.", v.live),
            _gauge(
                "copytrade_mode_forced_dry",
                "1 when LIVE is requested but the effective mode is DRY (safety forced it).",
                live_wanted and not v.live,
            ),
            _gauge("copytrade_redis_streak", "Consecutive healthy heartbeat slots.", v.streak),
            _gauge(
                "copytrade_heartbeat_age_seconds",
                "Seconds since the last heartbeat write (+Inf: none seen).",
                age,
            ),
            _gauge("copytrade_emergency_stop", "1 while the emergency stop is on.", mode.stopped()),
        ]

    def _intents(self) -> list[Metric]:
        st = self.s.settings
        q = self.s.queries
        by_state = q.intents_by_state()
        states = GaugeMetricFamily(
            "copytrade_intents", "Intents in each state now.", labels=["state"]
        )
        for state in IntentState:
            states.add_metric([state.value], by_state.get(state.value, 0))
        outside = CounterMetricFamily(
            "copytrade_nonces_used_outside",
            "Signer nonces found consumed by a transaction the system did not send.",
        )
        outside.add_metric([], len(self.s.audit_queries.used_outside()))
        return [
            states,
            _gauge(
                "copytrade_stuck_intents",
                "Intents broadcast more than COPYTRADE_STUCK_AFTER_S ago and not yet mined.",
                q.stuck(st.stuck_after_s),
            ),
            _gauge(
                "copytrade_queue_head_age_seconds",
                "Longest a leader's next signal has waited behind the sequence gate (0: none).",
                max((h["waiting_s"] for h in q.queue_heads()), default=0),
            ),
            _gauge(
                "copytrade_signed_past_max_age",
                "Signed intents whose signal is past its max age (a no-op cancel is due).",
                q.signed_past_age(st.max_signal_age_s),
            ),
            outside,
        ]

    def _balances(self) -> list[Metric]:
        low = len(low_balance_wei(self.s))
        return [
            _gauge(
                "copytrade_low_balance_signers",
                "Followers' signers holding less than COPYTRADE_LOW_BALANCE_WEI for gas.",
                low,
            ),
            _gauge(
                "copytrade_subaccounts_low",
                "Followers whose GMX subaccount is refused, or has COPYTRADE_SUBACCOUNT_LOW_"
                "ACTIONS actions or COPYTRADE_SUBACCOUNT_LOW_S seconds left.",
                len(subaccounts_low(self.s)),
            ),
        ]

    def _broker(self) -> list[Metric]:
        lengths = self.s.intake.dispatcher.queue_lengths()
        g = GaugeMetricFamily(
            "copytrade_queue_length", "Messages waiting in each Celery queue.", labels=["queue"]
        )
        for q, n in lengths.items():
            g.add_metric([q], n)
        return [g]


def serve(services: Any, port: int, addr: str = "0.0.0.0") -> None:  # noqa: S104
    """Serve the state gauges on `port` (a daemon thread of the calling process)."""

    reg = CollectorRegistry(auto_describe=False)
    reg.register(StateCollector(services))
    start_http_server(port, addr=addr, registry=reg)
