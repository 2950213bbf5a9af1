"""Beat-driven maintenance: the stuck scan (replace, hold, cancel; safe with two beats:
every new attempt is claimed by compare-and-set on its attempt number), the leader watcher
(one round at a time under an advisory lock; signal ids make a second round harmless) and
the reconciler."""

from __future__ import annotations

from core.bootstrap import services
from tasks.base import pipeline_task


@pipeline_task("copytrade.stuck_scan", periodic=True)
def stuck_scan() -> dict[str, int]:
    m = services().maintenance
    result = vars(m.scan())
    result["stale_signed_cancelled"] = m.cancel_stale_signed()
    result["nonces_used_outside"] = m.reconcile_nonces()
    return result


@pipeline_task("copytrade.follow_leaders", periodic=True)
def follow_leaders() -> dict[str, object]:
    return vars(services().leader_watcher.round())


@pipeline_task("copytrade.reconcile", periodic=True)
def reconcile() -> dict[str, int]:
    return vars(services().reconciler.run())


@pipeline_task("copytrade.redeliver")
def redeliver() -> dict[str, int]:
    """Sent by every worker as it starts (tasks/worker.py): it may replace one that was
    killed whole, whose messages wait in the broker's unacked set."""
    s = services()
    return {"restored": s.redelivery.restore_orphans(s.settings.redeliver_min_age_s)}
