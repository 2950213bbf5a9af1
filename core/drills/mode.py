"""The mode drills: the mode-store Redis becomes unusable (redis-failover), is restored
(redis-recovery), and the emergency stop under load (emergency-stop).

Locally the drill runs a steady load on its throwaway stack and injects the fault by PID;
with --observe it watches the configured deployment while the operator induces the fault,
and judges from PostgreSQL (broadcast times) and the effective mode this process reads.
"""

from __future__ import annotations

import threading
import time

from core.drills.base import Ctx, DrillFailed, Report, load_for
from core.drills.windows import WindowHolders
from core.services.verify import verify

FAULTS = ("kill", "hang", "flush", "restart-empty", "restore-old-streak")
HOLD_PERIODS = 6  # how long a local fault lasts, in health periods
WINDOWS = 4  # overlapping broadcast windows held open while the emergency stop is issued


def redis_failover(ctx: Ctx, fault: str = "kill") -> Report:
    return _mode_store_drill("redis-failover", ctx, fault)


def redis_recovery(ctx: Ctx, fault: str = "restore-old-streak") -> Report:
    return _mode_store_drill("redis-recovery", ctx, fault)


def _inject(ctx: Ctx, fault: str) -> None:
    st = ctx.stack
    assert st is not None
    if fault == "kill":
        st.kill_mode_store()
    elif fault == "hang":
        st.hang_mode_store()
    elif fault == "flush":
        st.flush_mode_store()
    elif fault == "restart-empty":
        st.kill_mode_store()
        st.restart_mode_store(keep_data=False)
    elif fault == "restore-old-streak":
        st.kill_mode_store()
        st.restart_mode_store(keep_data=True)  # the old backup is restored
    else:
        raise DrillFailed(f"unknown fault {fault!r}: one of {', '.join(FAULTS)}")


def _restore(ctx: Ctx, fault: str) -> None:
    st = ctx.stack
    assert st is not None
    if fault == "kill":
        st.restart_mode_store(keep_data=False)  # it kept nothing on disk
    elif fault == "hang":
        st.unhang_mode_store()


def _mode_store_drill(name: str, ctx: Ctx, fault: str) -> Report:
    r = Report(name, "local" if ctx.local else "observe")
    r.figures["fault"] = fault if ctx.local else "induced by the operator"
    r.figures["health_period_s"] = ctx.period
    q = ctx.q
    with load_for(ctx) as load:
        start = q.now()
        if load is not None:
            ctx.broadcasts_after(start, 2, "broadcasts before the fault")
        if ctx.stack is not None:
            if fault == "restore-old-streak":
                ctx.stack.save_mode_store()  # a backup holding today's streak ...
                time.sleep(HOLD_PERIODS * ctx.period)  # ... grows old while LIVE goes on
            t_fault = q.now()
            t0 = time.monotonic()
            _inject(ctx, fault)
            r.figures["time_to_dry_s"] = _since(t0, ctx, live=False)
            r.figures["first_reason"] = ctx.s.mode.verdict().reason
            if fault in ("kill", "hang"):
                time.sleep(HOLD_PERIODS * ctx.period)
            t_back = q.now()
            t1 = time.monotonic()
            _restore(ctx, fault)
            r.figures["time_back_to_live_s"] = _since(t1, ctx, live=True)
        else:
            ctx.say("watching: induce the mode-store fault now (kill, stop or flush its Redis)")
            ctx.seconds_until_mode(False, "the effective mode to turn DRY")
            t_fault = q.now()
            r.figures["first_reason"] = ctx.s.mode.verdict().reason
            ctx.say(f"DRY ({r.figures['first_reason']}); now restore the mode store")
            t1 = time.monotonic()
            ctx.seconds_until_mode(True, "LIVE to return")
            r.figures["dry_for_s"] = round(time.monotonic() - t1, 3)
            t_back = q.now()
        r.figures["streak_at_first_live"] = ctx.s.mode.verdict().streak
        before = q.broadcasts(start, t_fault)
        during = q.broadcasts(t_fault + ctx.grace(), t_back)
        r.figures["broadcasts_before"] = len(before)
        r.figures["broadcasts_during"] = len(during)
        if load is not None:
            r.figures["broadcasts_after"] = ctx.broadcasts_after(t_back, 1, "broadcasts after")
    if load is not None:
        r.figures["intents"] = load.wait_done()
        r.check("broadcasts before the fault > 0", r.figures["broadcasts_before"] > 0)
        r.check("broadcasts after recovery > 0", r.figures["broadcasts_after"] > 0)
        r.check(
            "DRY within 2 health periods",
            r.figures["time_to_dry_s"] <= 2 * ctx.period + ctx.s.settings.mode_read_timeout_s,
        )
        r.check(
            "LIVE again only after 3 fresh heartbeats (>= 1 period after restore)",
            r.figures["time_back_to_live_s"] >= ctx.period,
        )
        r.check(
            "every signal of the load ended confirmed (waited, not dropped)",
            set(r.figures["intents"]) == {"confirmed"},
        )
    r.check("no broadcast while unsafe (after 2 periods of grace)", not during)
    r.check(
        "LIVE returned with a streak of 3 or more", (r.figures["streak_at_first_live"] or 0) >= 3
    )
    if ctx.local:
        _verified(ctx, r)
    return r


def _since(t0: float, ctx: Ctx, live: bool) -> float:
    ctx.seconds_until_mode(live, "LIVE" if live else "DRY")
    return round(time.monotonic() - t0, 3)


def emergency_stop(ctx: Ctx) -> Report:
    r = Report("emergency-stop", "local" if ctx.local else "observe")
    q = ctx.q
    blocked: dict[int, str] = {}
    with load_for(ctx, every_s=0.1) as load:
        start = q.now()
        if load is not None:
            ctx.broadcasts_after(start, 4, "broadcasts before the stop")
            _stop_under_windows(ctx, r)
        else:
            ctx.say("watching: run `copytrade stop --reason ...` now")
            ctx.wait(ctx.s.mode.stopped, "the emergency stop")
        t_stop = q.now()
        r.figures["broadcasts_before"] = len(q.broadcasts(start, t_stop))
        if load is not None:
            time.sleep(HOLD_PERIODS * ctx.period)
            held = q.intents_of_signals(load.signal_ids)
            blocked = {i["id"]: i["tx_hash"] for i in held if i["state"] == "signed"}
            r.figures["waiting_unsigned"] = sum(i["state"] in ("pending", "created") for i in held)
            t_resume = q.now()
            ctx.s.mode.resume("drill", "emergency-stop drill over")
        else:
            ctx.say("stopped; run `copytrade resume --reason ...` when ready")
            ctx.wait(lambda: not ctx.s.mode.stopped(), "the resume")
            t_resume = q.now()
        r.figures["broadcasts_during"] = len(q.broadcasts(t_stop, t_resume))
        r.figures["signed_and_held"] = len(blocked)
        if load is not None:
            r.figures["broadcasts_after"] = ctx.broadcasts_after(t_resume, 1, "after resume")
    r.check("no broadcast after stop returned", r.figures["broadcasts_during"] == 0)
    if load is not None:
        r.figures["intents"] = load.wait_done()
        final = {i["id"]: i for i in q.intents_of_signals(load.signal_ids)}
        same = [i for i, h in blocked.items() if final[i]["tx_hash"] == h]
        r.figures["held_then_sent_with_same_bytes"] = len(same)
        r.check("broadcasts before the stop > 0", r.figures["broadcasts_before"] > 0)
        r.check("broadcasts after resume > 0", r.figures["broadcasts_after"] > 0)
        bound = ctx.s.settings.broadcast_window_s + 1
        took = r.figures["stop_returned_in_s"]
        r.check(f"stop returned within {bound:g} s", took is not None and took <= bound)
        r.check(
            f"stop flag visible while it waited for {WINDOWS} windows",
            r.figures["flag_seen_while_waiting"] is True,
        )
        r.check("held signed intents went out with the same bytes", len(same) == len(blocked))
        r.check(
            "every signal of the load ended confirmed", set(r.figures["intents"]) == {"confirmed"}
        )
        _verified(ctx, r)
    return r


def _stop_under_windows(ctx: Ctx, r: Report) -> None:
    """`stop` while WINDOWS overlapping broadcast windows are held open all the time (a stop
    that share lockers can starve never returns here: it is given the window bound + 1 s,
    then the holders let go so the drill can end and say so)."""
    bound = ctx.s.settings.broadcast_window_s + 1
    seen: list[bool] = []
    returned: list[float] = []

    def stop() -> None:
        ctx.s.mode.stop(
            "drill", "emergency-stop drill", on_wait=lambda _: seen.append(ctx.s.mode.stopped())
        )
        returned.append(time.monotonic())

    with WindowHolders(ctx.s.mode, WINDOWS) as holders:
        t0 = time.monotonic()
        stopper = threading.Thread(target=stop, daemon=True, name="drill-stop")
        stopper.start()
        stopper.join(bound)
        r.figures["windows_held"] = holders.opened
    stopper.join(bound + 30)
    r.figures["stop_returned_in_s"] = round(returned[0] - t0, 3) if returned else None
    r.figures["flag_seen_while_waiting"] = bool(seen) and all(seen)


def _verified(ctx: Ctx, r: Report) -> None:
    s = ctx.s
    report = verify(s.audit_queries, s.chain, s.venue, s.settings.max_signal_age_s)
    r.figures["verify_breaches"] = report.breaches
    r.check("copytrade verify: no breach", report.ok)
