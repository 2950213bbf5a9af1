"""The exception tree. Each docstring says what happened and what the operator should do.

Adapters translate library errors (psycopg2, redis, web3, requests) into these at the edge;
nothing above the adapters catches a library exception.
"""

from __future__ import annotations


class CopytradeError(Exception):
    """Base of every error copytrade raises on purpose."""


class ConfigError(CopytradeError):
    """A setting is missing or invalid. Fix the COPYTRADE_* variable named in the message."""


class NotFound(CopytradeError):
    """The leader, follower, signal or intent named does not exist. Check the id."""


class RejectedSignal(CopytradeError):
    """The input was refused; `reason` is machine-readable. Fix the input and resend it."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class IllegalTransition(CopytradeError):
    """Code tried a state change the state table forbids. This is a bug: report it with
    the intent id; the row was not changed."""


class TransientError(CopytradeError):
    """A dependency (PostgreSQL, RPC, broker) failed in a way that may pass. Tasks retry
    with backoff; if it persists, check the service named in the message."""


class UnsafeToSend(CopytradeError):
    """Sending is not allowed now (DRY mode, emergency stop, or the mode is unknown).
    Work waits and resumes by itself once sending is safe; check `copytrade status`."""


class ChainError(CopytradeError):
    """The node refused or failed a request in a way that retrying will not fix
    (wrong chain, rejected transaction). Inspect the message and the node."""


class SignerError(CopytradeError):
    """A signer reference cannot be resolved (unknown scheme, missing variable or file,
    wrong password). Fix the follower's signer reference or the secret it points to."""


class InFlight(CopytradeError):
    """The change needs the follower to have nothing unfinished (e.g. a new signer while
    orders signed by the old key are in flight). Wait until `copytrade intents list
    --follower ID` shows only terminal states, then run it again."""


class WrongChain(UnsafeToSend):
    """The node's chain id or genesis hash differs from the ones recorded at first start
    (a node restarted fresh, a wrong network or URL). Nothing is sent through it and our
    nonces are never reset. Fix COPYTRADE_RPC_URL / COPYTRADE_RPC_FALLBACK_URLS."""
