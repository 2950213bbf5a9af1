"""The Celery app. Creating it connects to nothing; workers start the Celery way:

    celery -A config.celery_app worker -Q intake,execution,watch -P prefork -l info

Queues: `intake` (producers' copytrade.submit_signal), `execution` (the per-signal chain
steps), `watch` (receipts by block, driven by beat: celery -A config.celery_app beat).
"""

from __future__ import annotations

import sys
from typing import Any

from celery import Celery
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    celeryd_init,
    task_failure,
    task_postrun,
    task_prerun,
    task_retry,
)
from kombu import Queue

from config.flower import guard
from config.settings import get_settings
from core import logs, metrics
from core.domain import steps

QUEUES = ("intake", "execution", "watch", "notify")


def result_backend_for(broker_url: str, setting: str = "") -> str:
    """Where `copytrade.submit_signal` keeps its answer: the setting, else the broker's
    Redis (keys expire), else `rpc://` (the answer goes back to the asking producer). On
    TLS (`rediss://`) Celery's backend insists on `ssl_cert_reqs`, which kombu does not:
    the certificate is then required (verified) unless the URL says otherwise."""
    if setting:
        return setting
    if broker_url.startswith("rediss://") and "ssl_cert_reqs=" not in broker_url:
        return broker_url + ("&" if "?" in broker_url else "?") + "ssl_cert_reqs=required"
    if broker_url.startswith(("redis://", "rediss://", "redis+socket://")):
        return broker_url
    return "rpc://"


def make_app(broker_url: str | None = None) -> Celery:
    """The configured app; `broker_url` overrides the setting (a producer for another
    deployment, or a test stack with its own broker)."""
    s = get_settings()
    broker = broker_url or s.broker_url
    timeout = s.broker_publish_timeout_s
    app = Celery(
        "copytrade",
        broker=broker,
        include=[
            "tasks.intake",
            "tasks.execution",
            "tasks.watching",
            "tasks.maintenance",
            "tasks.notify",
            "tasks.worker",  # the worker process hooks
        ],
    )
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Results: none, but for the producers' task (its answer: docs/producers.md).
        task_ignore_result=True,
        result_backend=result_backend_for(broker, s.result_backend_url),
        result_expires=s.result_expires_s,
        redis_socket_timeout=timeout,
        redis_socket_connect_timeout=timeout,
        # A producer's send_task subscribes for its answer before it publishes: with the
        # broker's Redis down it fails as fast as the publish does (not 20 one-second tries).
        result_backend_transport_options={
            "retry_policy": {
                "max_retries": 3,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.5,
            }
        },
        task_default_queue="execution",
        task_queues=[Queue(q) for q in QUEUES],
        task_routes=steps.routes(),  # the step table, core/domain/steps.py
        # Redelivery of an unacked message after this long: above any countdown we use.
        # A publish to a hung broker gives up after `timeout` a try (the intake then answers
        # dispatched: false and the reconciler dispatches); the consumer's BRPOP is not
        # bounded by it (kombu's event loop has its own health check).
        broker_transport_options={
            "visibility_timeout": 3600,
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
        },
        broker_connection_retry_on_startup=True,
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 3,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        # Task events for Flower (`-E` does the same); our tasks' arguments are ids.
        worker_send_task_events=True,
        beat_schedule={
            "stuck-scan": {
                "task": "copytrade.stuck_scan",
                "schedule": s.stuck_scan_period_s,
                "options": {"expires": max(1.0, 2 * s.stuck_scan_period_s)},
            },
            "reconcile": {
                "task": "copytrade.reconcile",
                "schedule": s.reconcile_period_s,
                "options": {"expires": max(1.0, s.reconcile_period_s)},
            },
            "follow-leaders": {
                "task": "copytrade.follow_leaders",
                "schedule": s.leader_poll_s,
                "options": {"expires": max(1.0, 2 * s.leader_poll_s)},
            },
            "watch-blocks": {
                "task": "copytrade.watch",
                "schedule": s.watch_period_s,
                "options": {"expires": max(1.0, 2 * s.watch_period_s)},
            },
            "alerts": {
                "task": "copytrade.alerts",
                "schedule": s.alerts_period_s,
                "options": {"expires": max(1.0, s.alerts_period_s)},
            },
            "loss-guard": {
                "task": "copytrade.loss_guard",
                "schedule": s.loss_guard_period_s,
                "options": {"expires": max(1.0, s.loss_guard_period_s)},
            },
            "notify": {
                "task": "copytrade.notify",
                "schedule": s.notify_period_s,
                "options": {"expires": max(1.0, 2 * s.notify_period_s)},
            },
        },
        timezone="UTC",
    )
    return app


app = make_app()
guard(sys.argv)  # `celery -A config.celery_app flower`: basic auth from settings, or exit


def app_for(broker_url: str) -> Celery:
    """This module's app when it already points at `broker_url`, else a new one."""
    return app if app.conf.broker_url == broker_url else make_app(broker_url)


@task_failure.connect
def _task_failed(sender: object = None, **_: object) -> None:
    metrics.task_failed(getattr(sender, "name", "unknown"))


@task_retry.connect
def _task_retried(sender: object = None, **_: object) -> None:
    metrics.task_retried(getattr(sender, "name", "unknown"))


@after_setup_logger.connect
@after_setup_task_logger.connect
def _json_logs(logger: Any = None, **_: object) -> None:
    if logger is not None and get_settings().log_format == "json":
        logs.use_json(logger)
        logs.warnings_to_root()  # Python's warnings: records of the root logger from now on


@celeryd_init.connect
def _worker_init(conf: Any = None, **_: object) -> None:
    """In a worker, before it connects: its broker and result-store sockets wait as
    Celery's defaults do (the 1 s publish bound is for producers — intake, API, CLI —
    which answer `dispatched: false`; a worker's acks and the next step of a chain must not
    give up on a loaded broker). And, before Celery's own logging is set up (and its first
    warning): with JSON logs only Celery's banner and shutdown line stay text, on stdout."""
    if conf is not None:
        options = dict(conf.broker_transport_options or {})
        options.pop("socket_timeout", None)
        options.pop("socket_connect_timeout", None)
        conf.broker_transport_options = options
        conf.redis_socket_timeout = 120.0  # Celery's default
        conf.redis_socket_connect_timeout = None
    if get_settings().log_format == "json":
        logs.capture_warnings_as_json()


@task_prerun.connect
def _bind_log_context(
    task_id: str | None = None, task: Any = None, args: Any = None, **_: object
) -> None:
    logs.bind_task(task_id, getattr(task, "name", None), args)


@task_postrun.connect
def _clear_log_context(**_: object) -> None:
    logs.clear()
