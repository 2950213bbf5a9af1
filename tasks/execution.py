"""Thin tasks for the per-signal chain. Each takes the signal's id and calls one step."""

from __future__ import annotations

from core.bootstrap import services
from tasks.base import Halt, pipeline_task


@pipeline_task("copytrade.validate", per_signal=True)
def validate(signal_pk: int) -> str:
    return services().pipeline.validate(signal_pk).value


@pipeline_task("copytrade.size", per_signal=True)
def size(signal_pk: int) -> list[int] | Halt:
    s = services()
    sized, gated = s.pipeline.size(signal_pk)
    # Gated intents (an earlier intent of the follower not yet past send) are woken by the
    # `send` of the signal ahead; a lost wake-up (a crash in between) is the reconciler's:
    # it re-enqueues the head of each follower's line once idle. No polling: under load,
    # one retry per waiting signal filled the queue ahead of the signal at the head.
    if not sized:
        if not gated:
            # Nothing of this signal waits to reach send (all rejected, stale or sized by
            # another chain): the leader's next signal must not wait for a send that will
            # never come from here.
            nxt = s.signals.next_waiting(signal_pk)
            if nxt is not None:
                s.intake.dispatcher.dispatch(nxt, start="size")
        return Halt([sized, gated])  # gated, or another chain sized them: stop here
    return [sized, gated]


@pipeline_task("copytrade.check_mode", per_signal=True)
def check_mode(signal_pk: int) -> int:
    return services().pipeline.check_mode(signal_pk)


@pipeline_task("copytrade.build_tx", per_signal=True)
def build_tx(signal_pk: int) -> int:
    return services().pipeline.build(signal_pk)


@pipeline_task("copytrade.send", per_signal=True)
def send(signal_pk: int) -> int:
    s = services()
    n = s.pipeline.send(signal_pk)
    # This signal's intents are past send: wake the leader's next waiting signal.
    nxt = s.signals.next_waiting(signal_pk)
    if nxt is not None:
        s.intake.dispatcher.dispatch(nxt, start="size")
    return n
