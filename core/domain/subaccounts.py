"""A GMX subaccount's standing, read before every order it would sign: authorised by the
wallet, its lifetime action budget (GMX counts every create, update and cancel and never
resets the count) and its expiry (unset means expired). Pure: the venue adapter reads the
figures, this decides."""

from __future__ import annotations

from dataclasses import dataclass

NOT_AUTHORIZED = "subaccount_not_authorized"
EXPIRED = "subaccount_expired"
EXHAUSTED = "subaccount_exhausted"

# GMX's own errors (SubaccountUtils), should an order ever reach them: the same reasons.
VENUE_ERRORS = {
    "SubaccountNotAuthorized": NOT_AUTHORIZED,
    "SubaccountApprovalExpired": EXPIRED,
    "MaxSubaccountActionCountExceeded": EXHAUSTED,
}


def venue_reason(message: str) -> str | None:
    """A venue refusal naming one of GMX's subaccount errors, as our reason with it."""
    for name, reason in VENUE_ERRORS.items():
        if name in message:
            return f"{reason}: {message}"
    return None


@dataclass(frozen=True)
class SubaccountTerms:
    """As the venue's DataStore holds them for (wallet, subaccount, order actions)."""

    authorized: bool
    actions_used: int
    max_actions: int
    expires_at: int  # unix seconds; 0: never set, which GMX treats as expired

    @property
    def remaining(self) -> int:
        return max(0, self.max_actions - self.actions_used)


def refusal(t: SubaccountTerms, now_s: int, actions: int = 1) -> str | None:
    """Why `actions` more actions would be refused, in GMX's order of checks (authorised,
    then the expiry — `block.timestamp > expiresAt` — then the budget); None: allowed."""
    if not t.authorized:
        return NOT_AUTHORIZED
    if now_s > t.expires_at:
        return EXPIRED
    if t.actions_used + actions > t.max_actions:
        return EXHAUSTED
    return None


def detail(t: SubaccountTerms, reason: str, now_s: int) -> str:
    """The figure behind a refusal, for the intent's reason."""
    if reason == EXHAUSTED:
        return f"{t.actions_used} of {t.max_actions} actions used"
    if reason == EXPIRED:
        return "expiry never set" if t.expires_at == 0 else f"expired {now_s - t.expires_at} s ago"
    return "not on the wallet's subaccount list (revoked or never added)"


def running_low(t: SubaccountTerms, now_s: int, min_actions: int, min_s: int) -> list[str]:
    """What an operator should hear before the refusals start: few actions left, or the
    expiry close."""
    low = []
    if t.authorized and t.remaining <= min_actions:
        low.append(f"{t.remaining} action(s) left of {t.max_actions}")
    if t.authorized and 0 < t.expires_at - now_s <= min_s:
        low.append(f"expires in {t.expires_at - now_s} s")
    return low
