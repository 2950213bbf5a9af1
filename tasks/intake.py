"""The producers' task: `copytrade.submit_signal` with a JSON payload (docs/producers.md)."""

from __future__ import annotations

from typing import Any

from core.bootstrap import services
from tasks.base import pipeline_task


@pipeline_task("copytrade.submit_signal", keeps_result=True)
def submit_signal(payload: Any) -> dict[str, Any]:
    """The intake's answer (accepted / duplicate / conflict / rejected with its reason),
    kept in the result backend for the producer's `.get()`."""
    return services().intake.submit(payload, source="task").as_dict()
