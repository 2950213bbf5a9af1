"""Enqueue a signal's chain on the broker (kombu errors stop here)."""

from __future__ import annotations

import logging

from celery import Celery, chain
from kombu.exceptions import ChannelError, KombuError, OperationalError
from redis.exceptions import RedisError

from core.domain.errors import TransientError
from core.domain.steps import chain_from, task_name

log = logging.getLogger(__name__)


class CeleryDispatcher:
    def __init__(self, app: Celery) -> None:
        self.app = app

    def dispatch(self, signal_pk: int, start: str = "validate", countdown: float = 0) -> bool:
        # ignore_result: the steps' results are nobody's (and a publisher that expected one
        # would subscribe to the result backend for every step it sends).
        sigs = [
            self.app.signature(
                task_name(s), args=(signal_pk,), immutable=True, options={"ignore_result": True}
            )
            for s in chain_from(start)
        ]
        try:
            chain(*sigs).apply_async(countdown=countdown or None)
        except Exception as exc:  # noqa: BLE001 - the row is the record: the reconciler retries
            # kombu's errors, redis-py's timeouts, a result backend refusing its URL: the
            # signal stays accepted and undispatched, never an error past its commit.
            log.warning("dispatch of signal %s failed: %s", signal_pk, type(exc).__name__)
            return False
        return True

    def queue_lengths(self) -> dict[str, int]:
        """Messages waiting per configured queue (a passive declare: nothing is created).
        A queue the broker does not hold yet (an empty Redis list is no key) counts 0."""
        queues = [q.name for q in self.app.conf.task_queues or ()]
        out: dict[str, int] = {}
        try:
            with self.app.connection_for_read() as conn:
                conn.ensure_connection(max_retries=1)
                for q in queues:
                    ch = conn.channel()
                    try:
                        out[q] = int(ch.queue_declare(queue=q, passive=True).message_count)
                    except ChannelError:
                        out[q] = 0
                    finally:
                        ch.close()
        except (OperationalError, KombuError, OSError, RedisError) as exc:
            raise TransientError(f"broker: {type(exc).__name__}: {exc}"[:200]) from None
        return out
