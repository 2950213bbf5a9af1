"""The step table (core/domain/steps.py) and what is derived from it."""

from __future__ import annotations

import pytest

from core.domain.states import IntentState, SignalState
from core.domain.steps import (
    CHAIN,
    PER_SIGNAL_TASKS,
    RESUMABLE,
    chain_from,
    first_step,
    resume_step,
    routes,
)


def test_every_registered_task_has_a_route_and_every_route_a_task() -> None:
    from config.celery_app import make_app

    app = make_app("memory://")
    app.loader.import_default_modules()
    ours = {n for n in app.tasks if n.startswith("copytrade.")}
    assert ours == set(routes())
    assert app.conf.task_routes == routes()


@pytest.mark.parametrize(
    ("state", "step"),
    [
        (SignalState.ACCEPTED, "validate"),
        (IntentState.PENDING, "size"),
        (IntentState.CREATED, "check_mode"),  # check_mode runs before build_tx signs
        (IntentState.SIGNED, "send"),
    ],
)
def test_a_stalled_state_resumes_at_the_first_step_that_handles_it(
    state: object, step: str
) -> None:
    assert resume_step(state) == step  # type: ignore[arg-type]


def test_resumable_states_are_the_ones_before_send_in_chain_order() -> None:
    assert RESUMABLE == (IntentState.PENDING, IntentState.CREATED, IntentState.SIGNED)
    with pytest.raises(ValueError, match="no step handles"):
        resume_step(IntentState.SENT)


def test_a_dispatch_enqueues_the_rest_of_the_chain() -> None:
    assert chain_from("check_mode") == ("check_mode", "build_tx", "send", "watch")
    assert chain_from("validate") == tuple(s.name for s in CHAIN)
    with pytest.raises(ValueError, match="unknown step"):
        chain_from("sign")
    assert first_step(["send", "size", "check_mode"]) == "size"


def test_per_signal_tasks_take_the_signal_pk() -> None:
    assert "copytrade.watch" not in PER_SIGNAL_TASKS
    assert {"copytrade.validate", "copytrade.send"} <= PER_SIGNAL_TASKS
