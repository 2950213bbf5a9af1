"""A bare Celery app for the B2 floor: a no-op task, chained six times like a signal's
chain, on the same broker and the same kind of prefork worker (queue `bench_noop`)."""

from __future__ import annotations

import os

from celery import Celery

app = Celery(
    "bench_noop",
    broker=os.environ["BENCH_BROKER_URL"],
    backend=os.environ["BENCH_BACKEND_URL"],
)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_default_queue="bench_noop",
    worker_send_task_events=True,
)


@app.task(name="bench.noop")
def noop(*_: object) -> int:
    return 0
