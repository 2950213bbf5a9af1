"""The audit log: who did what, when and why (operator actions and what the system did
on its own, e.g. a nonce used outside). Written in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from core.adapters.postgres.tables import audit_log


def write_audit(
    conn: Connection, actor: str, action: str, reason: str | None, **details: Any
) -> None:
    conn.execute(
        insert(audit_log).values(actor=actor, action=action, reason=reason, details=details)
    )
