"""`copytrade status`: the whole system on one screen (and as JSON).

Mode and why, streak and heartbeat age, the stop, queue depths, intents by state (all and
in the last hour), stuck / held / signed past max age, each signer's nonce against the
chain, low balances, recent alarms. A part that cannot be read says `unknown: <why>`
instead of failing the command: status is what an operator runs during an outage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from core.domain.errors import CopytradeError, WrongChain
from core.domain.mode import CHAIN_ALARM, LEADER_REORG_ALARM, NONCE_ALARM
from core.services import subaccount_checks

LIST_MAX = 20  # addresses listed per problem (the counts are complete)
CHAIN_ALARM_WITHIN_S = 120  # the wrong-chain refusal repeats every retry
REORG_ALARM_WITHIN_S = 86400  # a leader trade reorged out after followers traded: a day


def _part(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except (CopytradeError, OSError) as exc:
        return f"unknown: {exc}"[:300]


def gather(s: Any) -> dict[str, Any]:
    """Everything `status` shows; `s` is `core.bootstrap.Services`."""
    v = s.mode.verdict()
    q = s.queries
    st = s.settings
    by_state = _part(q.intents_by_state)
    wrong = wrong_chain(s)
    mode, why = effective(v.mode.value, v.reason, wrong)
    return {
        "requested_mode": _part(lambda: s.mode.requested().value),
        "effective_mode": mode,
        "why_not_live": why,
        "redis_streak": v.streak,
        "heartbeat_age_s": None if v.heartbeat_age_s is None else round(v.heartbeat_age_s, 3),
        "emergency_stop": _part(s.mode.stopped),
        "profile": st.profile,
        "queues": _part(s.intake.dispatcher.queue_lengths),
        "intents_by_state": by_state,
        "intents_last_hour": _part(lambda: q.intents_by_state(since_s=3600)),
        "stuck": _part(lambda: q.stuck(st.stuck_after_s)),
        "queue_heads": _part(q.queue_heads),
        "held": by_state.get("held", 0) if isinstance(by_state, dict) else by_state,
        "signed_past_max_age": _part(lambda: q.signed_past_age(st.max_signal_age_s)),
        "nonces_used_outside": _part(lambda: len(s.audit_queries.used_outside())),
        "signers": _part(lambda: signer_nonces(s)),
        "low_balance_signers": _part(lambda: low_balances(s)),
        "subaccounts_low": _part(lambda: subaccounts_low(s)[:LIST_MAX]),
        "notifications": _part(lambda: notifications(s)),
        "accounts": _part(lambda: accounts(s)),
        "chain_alarm": wrong
        if wrong != ""
        else _part(lambda: recent_note(s, CHAIN_ALARM, CHAIN_ALARM_WITHIN_S)),
        "leader_reorg_alarm": _part(
            lambda: recent_note(s, LEADER_REORG_ALARM, REORG_ALARM_WITHIN_S)
        ),
        "nonce_alarm": _part(lambda: recent_note(s, NONCE_ALARM, REORG_ALARM_WITHIN_S)),
        "chain_head": _part(lambda: chain_head(s)),
    }


def wrong_chain(s: Any) -> str | None:
    """Asked now: None when the node answers for the recorded chain (an alarm of an earlier
    refusal is then over), the problem when it does not (every send is refused: the
    effective mode is DRY whatever the mode store says), "" when the node cannot be asked
    (the recent alarm note stands)."""
    try:
        s.chain.block_number()  # identity checked in the same batch (core/adapters/chain.py)
    except WrongChain as exc:
        return str(exc)
    except (CopytradeError, OSError):
        return ""
    return None


def effective(mode: str, why: str | None, wrong: str | None) -> tuple[str, str | None]:
    """The effective mode and why it is not LIVE, the chain's identity counted."""
    if wrong and mode == "live":
        return "dry", "wrong_chain"
    return mode, why


def chain_head(s: Any, now: float | None = None) -> dict[str, Any]:
    """The node's head block and how old it is; `stalled` says "no new block for N s" past
    COPYTRADE_HEAD_STALL_S (a dev node without continuous blocks — instamine — never
    mines the blocks that confirm the last order: run it with a block time)."""
    head = s.chain.block_number()
    at = s.chain.block_times([head]).get(head)
    age = None if at is None else max(0.0, (time.time() if now is None else now) - at)
    stalled = None
    if age is not None and age > s.settings.head_stall_s:
        stalled = f"no new block for {age:.0f} s"
    return {"block": head, "age_s": None if age is None else round(age, 1), "stalled": stalled}


def signer_nonces(s: Any) -> dict[str, Any]:
    """Each signer's next nonce (ours) against the chain's latest and pending counts.
    `outside`: the chain counts more than we ever assigned (a nonce used outside the
    system, not yet found by the reconciler). `unsent`: we assigned nonces the node has not
    got (signed, waiting to be sent — normal for a moment; stuck if it stays)."""
    ours: dict[str, int] = s.audit_queries.signers()
    addresses = sorted(ours)
    latest = s.chain.nonces(addresses, "latest")
    pending = s.chain.nonces(addresses, "pending")
    outside, unsent = [], []
    for a in addresses:
        line = f"{a}: ours {ours[a]}, chain latest {latest[a]}, pending {pending[a]}"
        if latest[a] > ours[a]:
            outside.append(line)
        elif pending[a] < ours[a]:
            unsent.append(line)
    return {
        "total": len(addresses),
        "in_step": len(addresses) - len(outside) - len(unsent),
        "outside": outside[:LIST_MAX],
        "unsent": unsent[:LIST_MAX],
    }


def low_balance_wei(s: Any) -> dict[str, int]:
    """Every follower's signer under COPYTRADE_LOW_BALANCE_WEI, with its balance."""
    wei = s.chain.balances(sorted({f.address for f in s.registry.list_followers()}))
    return {a: w for a, w in sorted(wei.items()) if w < s.settings.low_balance_wei}


def low_balances(s: Any) -> list[str]:
    """The first 20 of `low_balance_wei`, one line each."""
    return [f"{a}: {w} wei" for a, w in list(low_balance_wei(s).items())[:LIST_MAX]]


def subaccounts_low(s: Any) -> list[str]:
    """Followers whose GMX subaccount is refused already or runs low (actions, expiry)."""
    return [f"follower {fid}: {what}" for fid, what in subaccounts_low_by_follower(s).items()]


def subaccounts_low_by_follower(s: Any) -> dict[int, str]:
    return subaccount_checks.running_low(
        s.registry.list_followers(),
        s.venue,
        s.chain,
        s.settings.subaccount_low_actions,
        s.settings.subaccount_low_s,
    )


def notifications(s: Any) -> dict[str, Any]:
    """The outbox by state, and the newest messages refused for good (a chat that never
    started the bot, a webhook that is gone: the destination needs fixing)."""
    counts = s.notifications.counts()
    return {
        "pending": counts.get("pending", 0),
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
        "failures": s.notifications.failures(LIST_MAX) if counts.get("failed") else [],
    }


def accounts(s: Any) -> dict[str, Any]:
    """Follower accounts and their followings: how many copy several leaders, how many have
    limits across them, which followings' circuit breakers are on."""
    rows = s.accounts.list()
    live = [[f for f in r["followings"] if not f["removed"]] for r in rows]
    limited = [r for r in rows if r["max_position_usd_1e6"] is not None
               or r["max_total_usd_1e6"] is not None or r["assets"] is not None
               or r["opposite_sides"] != "hedge"]  # fmt: skip
    return {
        "accounts": len(rows),
        "followings": sum(len(fs) for fs in live),
        "several_leaders": sum(1 for fs in live if len(fs) > 1),
        "with_limits": len(limited),
        "breakers_on": [f["follower"] for fs in live for f in fs if f["circuit_breaker"]],
    }


def recent_note(s: Any, key: str, within_s: float) -> str | None:
    """A system note (an alarm) while it is recent."""
    noted = s.controls.noted(key)
    if noted is None or noted[1] > within_s:
        return None
    return f"{noted[0]} ({noted[1]:.0f}s ago)"
