"""The producers' task: `copytrade.submit_signal` with a JSON payload (docs/producers.md)."""

from __future__ import annotations

from typing import Any

from core.bootstrap import services
from tasks.base import pipeline_task


@pipeline_task("copytrade.submit_signal")
def submit_signal(payload: Any) -> dict[str, Any]:
    return services().intake.submit(payload, source="task").as_dict()
