"""A provider's limits on JSON-RPC batches and request rates (hosted RPCs have both):

- at most `batch_max` calls go in one HTTP batch (COPYTRADE_RPC_BATCH_MAX); a batch
  refused as too large (HTTP 413, or one error object instead of the list of replies)
  halves the size for this process, down to single calls — a provider that refuses every
  batch is asked one call at a time, its identity calls (chain id, genesis) first;
- HTTP 429, or a whole reply that is a rate-limit error (-32005, "rate limit", "too many
  requests"), raises RateLimited with the provider's Retry-After (else 1 s): the endpoint
  rests that long (core/adapters/chain.py), and the caller's task is retried later with
  the same signed bytes — nothing is re-signed for a rate limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import requests

log = logging.getLogger(__name__)
DEFAULT_RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 300.0
RATE_WORDS = ("rate limit", "too many requests", "limit exceeded", "request rate")
TOO_LARGE_WORDS = ("batch", "too large", "too many", "exceeds")


class RateLimited(Exception):
    """The provider asked us to slow down for `retry_after_s`."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Limits(Protocol):
    batch_max: int


class Provider(Protocol):
    def make_batch_request(self, batch_requests: list[tuple[Any, Any]]) -> Any: ...
    def make_request(self, method: Any, params: Any) -> Any: ...


def retry_after(value: str | None) -> float:
    """Retry-After in seconds (RFC 9110 delta-seconds; a date or junk: the default)."""
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER_S
    except ValueError:
        seconds = DEFAULT_RETRY_AFTER_S
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _error_text(reply: Any) -> tuple[int | None, str]:
    err = reply.get("error") if isinstance(reply, dict) else None
    if not isinstance(err, dict):
        return None, ""
    code = err.get("code")
    return (code if isinstance(code, int) else None), str(err.get("message", "")).lower()


def _rate_limited(reply: Any) -> bool:
    code, text = _error_text(reply)
    return code in (-32005, 429) or any(w in text for w in RATE_WORDS)


def _too_large(reply: Any) -> bool:
    _, text = _error_text(reply)
    return "batch" in text or any(w in text for w in TOO_LARGE_WORDS[1:])


def limited_batch(
    limits: Limits,
    p: Provider,
    head: Sequence[tuple[str, Sequence[Any]]],
    calls: Sequence[tuple[str, Sequence[Any]]],
    check: Callable[[Sequence[Any]], None],
) -> list[dict[str, Any]]:
    """The replies to `calls` in order, each sub-batch preceded by `head` (the identity
    calls), whose replies go to `check`."""
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(calls):
        part = list(calls[i : i + max(1, limits.batch_max)])
        got = (
            _singly(p, [*head, *part])
            if limits.batch_max <= 0
            else _batch(limits, p, [*head, *part])
        )
        if got is None:
            continue  # too large: asked again, smaller
        replies = got
        if len(replies) != len(head) + len(part):
            raise ValueError("malformed batch reply")
        if head:
            check(replies[: len(head)])
        out += [dict(r) for r in replies[len(head) :]]
        i += len(part)
    return out


def _batch(limits: Limits, p: Provider, calls: list[tuple[str, Sequence[Any]]]) -> list[Any] | None:
    """One HTTP batch's replies; None when the provider refused it as too large (the
    limit is then smaller)."""
    try:
        replies = p.make_batch_request([(m, list(a)) for m, a in calls])
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status == 429:
            headers = exc.response.headers if exc.response is not None else {}
            raise RateLimited("HTTP 429", retry_after(headers.get("Retry-After"))) from exc
        if status == 413:
            _smaller(limits, "HTTP 413")
            return None
        raise
    if isinstance(replies, list):
        return replies
    if _rate_limited(replies):
        raise RateLimited(_error_text(replies)[1] or "rate limited", DEFAULT_RETRY_AFTER_S)
    if _too_large(replies):
        _smaller(limits, _error_text(replies)[1])
        return None
    raise ValueError("malformed batch reply")


def _smaller(limits: Limits, why: str) -> None:
    was = limits.batch_max
    limits.batch_max = was // 2 if was > 1 else 0  # 0: no batches at all, one call each
    log.warning(
        "the node refused a batch of up to %d calls (%s); now %d", was, why, limits.batch_max
    )


def _singly(p: Provider, calls: list[tuple[str, Sequence[Any]]]) -> list[Any]:
    """A provider that takes no batch at all: one request per call."""
    replies = []
    for m, a in calls:
        try:
            replies.append(p.make_request(m, list(a)))
        except requests.HTTPError as exc:
            if exc.response is not None and exc.response.status_code == 429:
                after = retry_after(exc.response.headers.get("Retry-After"))
                raise RateLimited("HTTP 429", after) from exc
            raise
    return replies
