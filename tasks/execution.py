"""Thin tasks for the per-signal chain. Each takes the signal's id and calls one step."""

from __future__ import annotations

from core.bootstrap import services
from tasks.base import Halt, pipeline_task


@pipeline_task("copytrade.validate")
def validate(signal_pk: int) -> str:
    return services().pipeline.validate(signal_pk).value


@pipeline_task("copytrade.size")
def size(signal_pk: int) -> list[int] | Halt:
    s = services()
    sized, gated = s.pipeline.size(signal_pk)
    if gated:
        # Followers whose earlier intents are not yet past send: the signal ahead wakes
        # this one when it is sent (`send` below); the retry is the fallback.
        s.intake.dispatcher.dispatch(signal_pk, start="size", countdown=s.settings.gate_retry_s)
    if not sized:
        return Halt([sized, gated])  # gated, or another chain sized them: stop here
    return [sized, gated]


@pipeline_task("copytrade.check_mode")
def check_mode(signal_pk: int) -> int:
    return services().pipeline.check_mode(signal_pk)


@pipeline_task("copytrade.build_tx")
def build_tx(signal_pk: int) -> int:
    return services().pipeline.build(signal_pk)


@pipeline_task("copytrade.send")
def send(signal_pk: int) -> int:
    s = services()
    n = s.pipeline.send(signal_pk)
    # This signal's intents are past send: wake the leader's next signal now instead of
    # leaving it to its gate retry (COPYTRADE_GATE_RETRY_S, the fallback).
    nxt = s.store.next_waiting(signal_pk)
    if nxt is not None:
        s.intake.dispatcher.dispatch(nxt, start="size")
    return n
