"""GMX v2 by hand, for the offline codec and event tests: the canonical signatures written out
(never read from the SDK), a configuration on Arbitrum's markets, an order, exact prices."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from core.adapters.gmx.config import GmxConfig, GmxMarket
from core.adapters.gmx.venue import GmxVenue
from core.domain.types import Action
from core.domain.venue import OrderCall

# -- canonical signatures, by hand ------------------------------------------------------------

CREATE_ORDER_PARAMS = (
    "((address,address,address,address,address,address,address[]),"
    "(uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256),"
    "uint8,uint8,bool,bool,bool,bytes32,bytes32[])"
)
EVENT_LOG_DATA = (
    "(((string,address)[],(string,address[])[]),((string,uint256)[],(string,uint256[])[]),"
    "((string,int256)[],(string,int256[])[]),((string,bool)[],(string,bool[])[]),"
    "((string,bytes32)[],(string,bytes32[])[]),((string,bytes)[],(string,bytes[])[]),"
    "((string,string)[],(string,string[])[]))"
)
POSITION_PROPS = (
    "((address,address,address),"
    "(uint256,uint256,uint256,int256,uint256,uint256,uint256,uint256,uint256,uint256),(bool))"
)
EVENT_LOG1 = f"EventLog1(address,string,string,bytes32,{EVENT_LOG_DATA})"
EVENT_LOG2 = f"EventLog2(address,string,string,bytes32,bytes32,{EVENT_LOG_DATA})"


def sel(signature: str) -> bytes:
    return bytes(function_signature_to_4byte_selector(signature))


def topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


# -- a configuration ---------------------------------------------------------------------------

ETH_MARKET = "0x70d95587d40A2caf56bd97485aB3Eec10Bee6336"
BTC_MARKET = "0x47c031236e19d024b42f8AE6780E44A573170703"
FEE = 123_456_789_000_000
ACCOUNT = "0x" + "ab" * 20
KEY = "0x" + "5e" * 32
COID = bytes(range(32))

CFG = GmxConfig.for_chain(
    42161,
    {"ETH": GmxMarket(ETH_MARKET, 18), "BTC": GmxMarket(BTC_MARKET, 8)},
)
VENUE = GmxVenue(CFG)


def order(action: Action = Action.OPEN, **kw: Any) -> OrderCall:
    base: dict[str, Any] = {
        "action": action,
        "asset": "ETH",
        "is_long": True,
        "collateral_usd_1e6": 250_500000,  # $250.50
        "leverage_x": 5,
        "acceptable_price_usd_1e6": 3000_500000,  # $3000.50
        "client_order_id": COID,
        "account": to_checksum_address(ACCOUNT),
        "execution_fee_wei": FEE,
    }
    return OrderCall(**{**base, **kw})


def gmx_price(usd_1e6: int, decimals: int) -> int:
    """USD per smallest token unit with 30 decimals, computed exactly with Fraction."""
    exact = Fraction(usd_1e6, 10**6) * 10**30 / 10**decimals
    assert exact.denominator == 1
    return int(exact)
