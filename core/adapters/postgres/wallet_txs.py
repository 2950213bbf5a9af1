"""A follower's wallet transaction outside any order (the collateral token's approval of the
venue): it takes the signer's next nonce under the same row lock as signing, so the nonce
allocator counts it, and it is audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.adapters.postgres.audit_log import write_audit
from core.adapters.postgres.db import Database
from core.adapters.postgres.nonces import bump_nonces, lock_nonces
from core.adapters.postgres.tables import followers, intents, signers
from core.domain.errors import InFlight
from core.domain.states import INTENT_TERMINAL


class WalletTxStore:
    """The `WalletTxs` port (core/ports.py)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def spend_nonce(
        self,
        address: str,
        chain_id: int,
        chain_nonce: Callable[[], int],
        send: Callable[[int], str],
        audit: tuple[str, str, str | None, dict[str, Any]],
    ) -> str:
        """`send(nonce)` (sign and broadcast; it raises unless the node took it) at the
        signer's next nonce, the row locked meanwhile (a build of this signer waits a
        moment), then the nonce counted and `audit` (actor, action, reason, details)
        written with the hash, in one transaction. Refused (InFlight) while anything of the
        signer is unfinished or the node's pending count differs from ours: the call would
        then share a nonce with an order. Waiting for the receipt is the caller's, after
        the commit. A crash between the broadcast and the commit leaves a nonce used
        outside, which the nonce audit finds (decision 0015)."""
        with self.db.tx() as conn:
            conn.execute(
                pg_insert(signers)
                .values(address=address, chain_id=chain_id, next_nonce=chain_nonce())
                .on_conflict_do_nothing(index_elements=[signers.c.address])
            )
            nonce = lock_nonces(conn, [address])[address]
            mine = select(followers.c.id).where(followers.c.address == address)
            busy = conn.execute(
                select(func.count()).where(
                    or_(intents.c.signer_address == address, intents.c.follower_id.in_(mine)),
                    intents.c.state.not_in([s.value for s in INTENT_TERMINAL]),
                )
            ).scalar_one()
            pending = chain_nonce()
            if busy or pending != nonce:
                raise InFlight(
                    f"signer {address}: {busy} intent(s) unfinished, node's pending nonce "
                    f"{pending} vs next {nonce}; run it again once they are done"
                )
            tx_hash = send(nonce)
            bump_nonces(conn, {address: nonce + 1})
            actor, action, reason, details = audit
            write_audit(conn, actor, action, reason, **details, nonce=nonce, tx_hash=tx_hash)
            return tx_hash
