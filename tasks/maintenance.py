"""Beat-driven maintenance: the stuck scan (replace, hold, cancel). Safe with two beats:
every new attempt is claimed by compare-and-set on its attempt number."""

from __future__ import annotations

from core.bootstrap import services
from tasks.base import pipeline_task


@pipeline_task("copytrade.stuck_scan")
def stuck_scan() -> dict[str, int]:
    m = services().maintenance
    result = vars(m.scan())
    result["stale_signed_cancelled"] = m.cancel_stale_signed()
    result["nonces_used_outside"] = m.reconcile_nonces()
    return result


@pipeline_task("copytrade.reconcile")
def reconcile() -> dict[str, int]:
    return vars(services().reconciler.run())
