"""The heartbeat's slots in Redis. Each call is one Lua script, so the slot, the streak and
the store's clock (`TIME`) are read or written atomically. Any Redis error or timeout is
reported as "unreadable" (None), which the mode logic turns into DRY."""

from __future__ import annotations

import logging

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.domain.mode import Heartbeat

log = logging.getLogger(__name__)

KEY = "copytrade:heartbeat"

# Write one slot per period; the same slot twice counts once; a gap restarts the streak.
BEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = math.floor(now / tonumber(ARGV[1]))
local h = redis.call('HMGET', KEYS[1], 'slot', 'streak')
local last = tonumber(h[1])
local streak = tonumber(h[2]) or 0
if last == slot then
  return {now, streak, 0}
end
if last ~= nil and slot == last + 1 then streak = streak + 1 else streak = 1 end
redis.call('HSET', KEYS[1], 'slot', slot, 'streak', streak, 'beat_us', now)
return {now, streak, 1}
"""

READ = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local h = redis.call('HMGET', KEYS[1], 'streak', 'beat_us')
return {now, tonumber(h[1]) or 0, tonumber(h[2]) or -1}
"""


class RedisModeStore:
    def __init__(self, url: str, period_s: float, timeout_s: float = 0.25) -> None:
        self.url = url
        self.period_us = int(period_s * 1_000_000)
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
            health_check_interval=0,
        )
        self._beat = self._client.register_script(BEAT)
        self._read = self._client.register_script(READ)

    def beat(self) -> Heartbeat | None:
        """Write this slot (idempotent within the slot). None when Redis failed."""
        try:
            now, streak, _ = self._beat(keys=[KEY], args=[self.period_us])
        except (redis.RedisError, OSError, ValueError) as exc:
            log.warning("heartbeat write failed: %s", type(exc).__name__)
            return None
        return Heartbeat(int(now), int(streak), int(now))

    def read(self) -> Heartbeat | None:
        """The streak and the age of the last beat, by the store's clock; None on any error."""
        try:
            now, streak, beat = self._read(keys=[KEY])
            now, streak, beat = int(now), int(streak), int(beat)
        except (redis.RedisError, OSError, ValueError, TypeError) as exc:
            log.warning("mode store read failed: %s", type(exc).__name__)
            return None
        return Heartbeat(now, streak, None if beat < 0 else beat)

    def close(self) -> None:
        self._client.close()
