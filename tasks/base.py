"""Shared task options: transient failures retry with backoff; nothing else is caught."""

from __future__ import annotations

from typing import Any

from core.domain.errors import TransientError, UnsafeToSend

RETRYING: dict[str, Any] = {
    "autoretry_for": (TransientError, UnsafeToSend),
    "retry_backoff": 0.5,
    "retry_backoff_max": 10,
    "retry_jitter": True,
    "max_retries": 50,
}
