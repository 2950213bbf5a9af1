"""Effective execution mode: LIVE only when every condition holds (pure).

The heartbeat writes one slot per `period` keyed by the mode store's own clock; the streak
is the number of consecutive slots written. Reads never advance it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.types import Mode

# The controls keys (core/adapters/postgres/controls.py stores them).
REQUESTED_MODE = "requested_mode"
EMERGENCY_STOP = "emergency_stop"
# Notes that `status` shows while recent (ControlStore.note / noted).
CHAIN_IDENTITY = "chain_identity"  # chain id:genesis recorded at first start
CHAIN_ALARM = "chain_alarm"  # the last wrong-chain refusal
NONCE_ALARM = "nonce_alarm"  # a nonce consumed by a transaction not found
LEADER_REORG_ALARM = "leader_reorg_alarm"  # a leader trade reorged out after copies
STREAK_THRESHOLD = 3


@dataclass(frozen=True)
class Heartbeat:
    """What the mode store holds, read with the store's clock (`now_us`)."""

    now_us: int
    streak: int
    last_beat_us: int | None  # None: no heartbeat has ever been written


@dataclass(frozen=True)
class ModeVerdict:
    mode: Mode
    reason: str | None  # why not LIVE (None when LIVE)
    streak: int | None = None
    heartbeat_age_s: float | None = None
    requested: Mode | None = None  # None: the requested mode could not be read

    @property
    def live(self) -> bool:
        return self.mode is Mode.LIVE


def evaluate(
    requested: Mode,
    stopped: bool,
    heartbeat: Heartbeat | None,
    period_s: float,
    threshold: int = STREAK_THRESHOLD,
) -> ModeVerdict:
    """`heartbeat` is None when the mode store could not be read: that alone means DRY."""
    streak = heartbeat.streak if heartbeat else None
    age = None
    if heartbeat and heartbeat.last_beat_us is not None:
        age = max(0, heartbeat.now_us - heartbeat.last_beat_us) / 1_000_000

    def dry(reason: str) -> ModeVerdict:
        return ModeVerdict(Mode.DRY, reason, streak, age, requested)

    if stopped:
        return dry("emergency_stop")
    if requested is not Mode.LIVE:
        return dry("requested_dry")
    if heartbeat is None:
        return dry("mode_store_unreadable")
    if age is None:
        return dry("no_heartbeat")
    if age >= 2 * period_s:
        return dry("heartbeat_stale")
    if heartbeat.streak < threshold:
        return dry(f"streak_below_{threshold}")
    return ModeVerdict(Mode.LIVE, None, streak, age, requested)
