"""Thin tasks for the per-signal chain. Each takes the signal's id and calls one step."""

from __future__ import annotations

from config.celery_app import app
from core.bootstrap import services
from tasks.base import RETRYING


@app.task(name="copytrade.validate", **RETRYING)
def validate(signal_pk: int) -> str:
    return services().pipeline.validate(signal_pk).value


@app.task(name="copytrade.size", **RETRYING)
def size(signal_pk: int) -> list[int]:
    s = services()
    sized, gated = s.pipeline.size(signal_pk)
    if gated:
        # Followers whose earlier intents are not yet past send: try those again shortly.
        s.intake.dispatcher.dispatch(signal_pk, start="size", countdown=s.settings.gate_retry_s)
    return [sized, gated]


@app.task(name="copytrade.check_mode", **RETRYING)
def check_mode(signal_pk: int) -> int:
    return services().pipeline.check_mode(signal_pk)


@app.task(name="copytrade.build_tx", **RETRYING)
def build_tx(signal_pk: int) -> int:
    return services().pipeline.build(signal_pk)


@app.task(name="copytrade.send", **RETRYING)
def send(signal_pk: int) -> int:
    return services().pipeline.send(signal_pk)
