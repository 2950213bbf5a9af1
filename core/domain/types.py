"""Money and chain quantities as distinct integer types. Never float."""

from __future__ import annotations

from enum import StrEnum
from typing import NewType

Wei = NewType("Wei", int)
UsdE6 = NewType("UsdE6", int)  # micro-USD: 1 USD == 1_000_000
Nonce = NewType("Nonce", int)
Address = NewType("Address", str)  # 0x-prefixed, EIP-55 checksummed

USD = 1_000_000


class Action(StrEnum):
    OPEN = "open"
    INCREASE = "increase"
    DECREASE = "decrease"
    CLOSE = "close"

    @property
    def venue_code(self) -> int:
        """The router's uint8 action code (see contracts/PerpRouter.sol)."""
        return _VENUE_CODES[self]

    @property
    def adds_exposure(self) -> bool:
        return self in (Action.OPEN, Action.INCREASE)


# An intent's action that is no signal's: copytrade's own cancel, through the venue, of a
# request no keeper handled (leg 1 of the request's signal and follower; decision 0021).
# Never counted as exposure, never a copy: the signal's max age does not bound it.
CANCEL_ACTION = "cancel"

_VENUE_CODES = {Action.OPEN: 0, Action.INCREASE: 1, Action.DECREASE: 2, Action.CLOSE: 3}


class Side(StrEnum):
    LONG = "long"
    SHORT = "short"


class Mode(StrEnum):
    LIVE = "live"
    DRY = "dry"
