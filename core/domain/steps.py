"""The step table: which step handles which state, what comes next, and on which queue.

Written once here; the Celery routes (config/celery_app.py), the chain a dispatch enqueues
(core/adapters/celery_dispatch.py), the log context's per-signal tasks (core/logs.py), the
reconciler's resume step and the waiting-signal query (core/adapters/postgres/) are all
derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.states import IntentState, SignalState


@dataclass(frozen=True)
class Step:
    """One step of a signal's chain. `handles`: the state of the rows it works on (a step
    run twice finds nothing left in that state); None: the step is not per signal."""

    name: str
    handles: SignalState | IntentState | None
    queue: str = "execution"

    @property
    def task(self) -> str:
        return task_name(self.name)


def task_name(step: str) -> str:
    return f"copytrade.{step}"


# A signal's chain, in order. check_mode and build_tx both work on `created`: check_mode
# dry-runs what the mode says, build_tx signs what check_mode (run again) passed.
CHAIN: tuple[Step, ...] = (
    Step("validate", SignalState.ACCEPTED),
    Step("size", IntentState.PENDING),
    Step("check_mode", IntentState.CREATED),
    Step("build_tx", IntentState.CREATED),
    Step("send", IntentState.SIGNED),
    Step("watch", None, queue="watch"),  # by block, for every signal (beat drives it too)
)
# Tasks outside the chain and their queues.
OTHER_TASKS: dict[str, str] = {
    "submit_signal": "intake",
    "stuck_scan": "watch",
    "reconcile": "watch",
    "redeliver": "watch",  # a lost worker's messages back on their queues (worker start)
    "follow_leaders": "watch",
    "notify": "notify",  # the notifications drain: its own queue, never behind real work
    "alerts": "notify",  # what needs a person, into the notifications outbox
    "loss_guard": "watch",  # followers' loss limits against their venue equity
}

PER_SIGNAL_TASKS = frozenset(s.task for s in CHAIN if s.handles is not None)
STEP_NAMES = tuple(s.name for s in CHAIN)


def routes() -> dict[str, dict[str, str]]:
    """Celery's task_routes: every task to its queue."""
    out = {s.task: {"queue": s.queue} for s in CHAIN}
    out.update({task_name(n): {"queue": q} for n, q in OTHER_TASKS.items()})
    return out


def chain_from(start: str) -> tuple[str, ...]:
    """The step names a dispatch from `start` enqueues."""
    if start not in STEP_NAMES:
        raise ValueError(f"unknown step {start!r}; steps: {', '.join(STEP_NAMES)}")
    return STEP_NAMES[STEP_NAMES.index(start) :]


def resume_step(state: SignalState | IntentState) -> str:
    """The first step that handles rows in `state`: where a stalled signal starts again."""
    for s in CHAIN:
        if s.handles is state:
            return s.name
    raise ValueError(f"no step handles {state!r}")


# Intent states a signal can stop short in before send, and where it resumes, in chain order.
RESUMABLE: tuple[IntentState, ...] = tuple(
    s.handles
    for s in CHAIN
    if isinstance(s.handles, IntentState) and resume_step(s.handles) == s.name
)


def first_step(steps: list[str]) -> str:
    """The earliest of `steps` in the chain."""
    return min(steps, key=STEP_NAMES.index)
