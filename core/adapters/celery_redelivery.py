"""Messages a lost worker held, back on their queues at once (the Redis broker).

With `acks_late`, a task's message stays in the Redis transport's `unacked` hash until the
worker acknowledges it. A worker killed whole (its main process too, so no
`reject_on_worker_lost`) leaves its messages there, and kombu only restores them after the
`visibility_timeout` (an hour, above any countdown we use). Here a message is restored when
it was delivered more than a given age ago and no live worker reports it active, reserved or
scheduled (Celery's own inspect replies). A live worker that does not answer in time has
its messages restored too: each step finds nothing left in the state it handles when run a
second time, so the price is a wasted task, never a second send (docs/decisions/0028).
RabbitMQ needs none of this: it returns a dead connection's unacked messages itself.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from core.domain.errors import TransientError

log = logging.getLogger(__name__)


class Redelivery:
    def __init__(self, app: Any, reply_timeout_s: float = 1.0) -> None:
        self.app = app
        self.reply_timeout_s = reply_timeout_s

    def restore_orphans(self, min_age_s: float) -> int:
        """Restore the messages delivered over `min_age_s` ago that no live worker holds;
        how many were restored."""
        with self.app.connection_for_write() as conn:
            try:
                return self._restore(conn, min_age_s)
            except (*conn.connection_errors, *conn.channel_errors) as exc:
                raise TransientError(
                    f"broker: {exc!r}; the messages wait for the next try"
                ) from exc

    def _restore(self, conn: Any, min_age_s: float) -> int:
        channel = conn.default_channel
        if not hasattr(channel, "unacked_index_key"):
            return 0  # not the Redis transport: the broker redelivers by itself
        client = channel.client
        old = client.zrangebyscore(channel.unacked_index_key, 0, time.time() - min_age_s)
        if not old:
            return 0
        held = self._held()
        restored = 0
        for tag in old:
            raw = client.hget(channel.unacked_key, tag)
            if raw is None:
                continue  # acknowledged meanwhile
            headers = json.loads(raw)[0].get("headers") or {}
            if headers.get("id") in held:
                continue
            channel.qos.restore_by_tag(tag, client)
            restored += 1
            log.warning(
                "message of %s (task %s) restored: no live worker holds it",
                headers.get("task"),
                headers.get("id"),
            )
        return restored

    def _held(self) -> set[str]:
        """Ids of the tasks the live workers report active, reserved or scheduled."""
        control = self.app.control
        live = control.ping(timeout=self.reply_timeout_s)
        if not live:
            return set()
        inspect = control.inspect(timeout=self.reply_timeout_s, limit=len(live))
        held: set[str] = set()
        for replies in (inspect.active(), inspect.reserved(), inspect.scheduled()):
            for tasks in (replies or {}).values():
                for t in tasks:
                    held.add(str(t.get("id") or (t.get("request") or {}).get("id")))
        return held
