"""Worker process hooks that need the services (core/bootstrap.py). A task module, so the
app's `include` imports it in every worker before `worker_init` fires, and
config/celery_app.py imports nothing of the composition root."""

from __future__ import annotations

import logging

from celery.signals import worker_init, worker_process_init

from config.celery_app import app
from config.settings import get_settings
from core import bootstrap, metrics

log = logging.getLogger(__name__)


@worker_process_init.connect
def _fresh_process(**_: object) -> None:
    # Each prefork child builds its own engine, HTTP session and key cache on first use.
    bootstrap.reset()
    metrics.prime(sorted(n for n in app.tasks if n.startswith("copytrade.")))


@worker_init.connect
def _worker_started(**_: object) -> None:
    # In the main process, before the pool forks: children count into the same directory.
    s = get_settings()
    _redeliver(s.redeliver_min_age_s)
    metrics.start_worker_exporter(s.metrics_port, s.metrics_dir)
    if s.preload_signers:
        bootstrap.preload_signers()


def _redeliver(min_age_s: float) -> None:
    """This worker may replace one that was killed whole: the messages that one held wait
    in the broker's unacked set until the visibility timeout (an hour). Ask for them back
    now (`copytrade.redeliver`, on `watch`: a live watcher restores them while this worker
    is still starting), and once more `min_age_s` from now: a replacement up sooner than
    that after the lost worker took its last message would find that message too young to
    count as lost. On a connection of its own: nothing pooled before the fork."""
    try:
        with app.connection_for_write() as conn:
            app.send_task("copytrade.redeliver", connection=conn)
            app.send_task("copytrade.redeliver", connection=conn, countdown=min_age_s)
    except Exception as exc:  # noqa: BLE001 - the broker away: the reconciler still resumes
        log.warning("redeliver not sent (%s): the reconciler resumes stopped chains", exc)
