"""What needs a person, told through the notifications outbox (`copytrade.alerts`, beat,
on the notify queue): the emergency stop (the operator, and every follower — their copies
are paused — then resumed), forced DRY for longer than COPYTRADE_ALERT_FORCED_DRY_PERIODS
health periods, a wrong chain or a nonce used outside, intents held at the fee ceiling,
signers low on gas, GMX subaccounts running low. Each condition is an episode: reported
once when it has lasted its delay, `resolved` once when it ends (the store writes the
episode and its messages in one transaction, so two rounds at once report it once)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from core.domain.errors import CopytradeError
from core.domain.mode import CHAIN_ALARM, NONCE_ALARM
from core.domain.types import Mode
from core.services import status

log = logging.getLogger(__name__)

RECENT_S = 120.0  # an alarm note this recent is an active condition


@dataclass(frozen=True)
class Condition:
    name: str
    active: bool
    text: str
    delay_s: float = 0.0
    followers_event: str | None = None  # also told to every follower (the stop: paused)
    follower_id: int | None = None  # … or to this follower only
    operator: bool = True


def conditions(s: Any) -> list[Condition]:
    """Each condition as read now; one that cannot be read is left out of this round (its
    episode neither opens nor closes on a failed read)."""
    out: list[Condition] = []
    st = s.settings

    def add(name: str, read: Any, delay_s: float = 0.0, followers_event: str | None = None) -> None:
        try:
            active, text = read()
        except (CopytradeError, OSError) as exc:
            log.warning("alert %s unreadable: %s", name, exc)
            return
        out.append(Condition(name, bool(active), text, delay_s, followers_event))

    def stop() -> tuple[bool, str]:
        return s.mode.stopped(), "the emergency stop is on: no order is sent"

    def forced_dry() -> tuple[bool, str]:
        v = s.mode.verdict()
        forced = v.requested is Mode.LIVE and not v.live
        return forced, f"LIVE requested but the effective mode is DRY: {v.reason}"

    def chain() -> tuple[bool, str]:
        note = status.recent_note(s, CHAIN_ALARM, RECENT_S)
        return note is not None, f"chain alarm: {note}"

    def nonce() -> tuple[bool, str]:
        note = status.recent_note(s, NONCE_ALARM, RECENT_S)
        return note is not None, f"nonce alarm: {note}"

    def held() -> tuple[bool, str]:
        n = int(s.queries.intents_by_state().get("held", 0))
        return n > 0, f"{n} intent(s) held at the fee ceiling (COPYTRADE_FEE_CEILING_WEI)"

    def low() -> tuple[bool, str]:
        lines = status.low_balances(s)
        return bool(lines), "signers low on gas: " + "; ".join(lines)

    standing: list[dict[int, str]] = []  # read once a round: the operator's line and each owner's

    def subaccounts() -> tuple[bool, str]:
        standing.append(status.subaccounts_low_by_follower(s))
        lines = [f"follower {fid}: {what}" for fid, what in standing[0].items()]
        return bool(lines), "GMX subaccounts running low: " + "; ".join(lines[:10])

    add("stop", stop, followers_event="paused")
    add("forced_dry", forced_dry, delay_s=st.alert_forced_dry_periods * st.health_period_s)
    add("chain_alarm", chain)
    add("nonce_alarm", nonce)
    add("held", held)
    add("low_balance", low)
    add("subaccount_low", subaccounts)
    if not standing:
        return out  # unreadable this round: no owner's episode opens or closes on it
    by_follower = standing[0]
    try:  # each subaccount follower hears of its own subaccount, once per episode
        for f in s.registry.list_followers():
            if f.subaccount_of:
                what = by_follower.get(f.id, "")
                text = f"your GMX subaccount needs your wallet's attention: {what}"
                out.append(Condition(f"subaccount_low:{f.id}", f.id in by_follower, text,
                                     followers_event="subaccount_low", follower_id=f.id,
                                     operator=False))  # fmt: skip
    except (CopytradeError, OSError) as exc:
        log.warning("subaccount standing unreadable: %s", exc)
    return out


def check(s: Any) -> dict[str, str]:
    """One round: every condition's episode advanced; returns what was reported now."""
    operator = bool(s.settings.operator_notify_url.get_secret_value())
    reported: dict[str, str] = {}
    with s.notifications.alerts_lock() as mine:
        if not mine:
            return reported  # another round is at it; this one's readings would be older
        for c in conditions(s):
            how = s.notifications.episode(
                c.name,
                c.active,
                {"text": c.text},
                c.delay_s,
                operator and c.operator,
                c.followers_event,
                c.follower_id,
            )
            if how is not None:
                reported[c.name] = how
    return reported
