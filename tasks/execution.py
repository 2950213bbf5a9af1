"""Thin tasks for the per-signal chain: each takes the signal's id, calls one step of
core/services/execution.py, and maps its answer (tasks/base.py maps the errors)."""

from __future__ import annotations

from celery.exceptions import Ignore

from core.bootstrap import services
from tasks.base import pipeline_task


@pipeline_task("copytrade.validate", per_signal=True)
def validate(signal_pk: int) -> str:
    return services().pipeline.validate(signal_pk).value


@pipeline_task("copytrade.size", per_signal=True)
def size(signal_pk: int) -> None:
    if not services().pipeline.size_step(signal_pk):
        raise Ignore()  # gated, or sized by another chain: the rest of this chain stops here


@pipeline_task("copytrade.check_mode", per_signal=True)
def check_mode(signal_pk: int) -> int:
    return services().pipeline.check_mode(signal_pk)


@pipeline_task("copytrade.build_tx", per_signal=True)
def build_tx(signal_pk: int) -> int:
    return services().pipeline.build(signal_pk)


@pipeline_task("copytrade.send", per_signal=True)
def send(signal_pk: int) -> int:
    return services().pipeline.send_step(signal_pk)
