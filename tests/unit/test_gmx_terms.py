"""GMX's terms from its DataStore keys: the execution fee's gas as
GasUtils.adjustGasLimitForEstimate computes it, the minimums in micro-USD (rounded up: an
order at the figure passes GMX's check), with GMX's Arbitrum config (config/general.ts)."""

from __future__ import annotations

from eth_abi import encode

from core.adapters.gmx import codec
from core.adapters.gmx.config import GmxConfig
from core.adapters.gmx.venue import TERM_KEYS, GmxVenue

VENUE = GmxVenue(GmxConfig.for_chain(42161, {}))
ARBITRUM = {
    "ESTIMATED_GAS_FEE_BASE_AMOUNT_V2_1": 600_000,
    "ESTIMATED_GAS_FEE_PER_ORACLE_PRICE": 250_000,
    "ESTIMATED_GAS_FEE_MULTIPLIER_FACTOR": 10**30,  # 1x
    "INCREASE_ORDER_GAS_LIMIT": 3_900_000,
    "DECREASE_ORDER_GAS_LIMIT": 3_000_000,
    "MIN_POSITION_SIZE_USD": 10**30,  # 1 USD
    "MIN_COLLATERAL_USD": 10**30 + 1,  # a hair over 1 USD
}


def _results(values: dict[str, int]) -> list[bytes]:
    return [encode(["uint256"], [values[k]]) for k in TERM_KEYS]


def test_the_reads_are_the_datastore_keys_in_order() -> None:
    calls = VENUE.terms_calls()
    assert [c.to for c in calls] == [VENUE.cfg.data_store] * len(TERM_KEYS)
    assert [c.data for c in calls] == [codec.get_uint(codec.key_of(k)) for k in TERM_KEYS]


def test_fee_gas_is_base_plus_three_oracle_prices_plus_the_limit_times_the_factor() -> None:
    t = VENUE.decode_terms(_results(ARBITRUM))
    assert t.increase_fee_gas == 600_000 + 3 * 250_000 + 3_900_000
    assert t.decrease_fee_gas == 600_000 + 3 * 250_000 + 3_000_000
    assert t.execution_fee(True, 10**7) == 5_250_000 * 10**7  # at 0.01 gwei
    assert t.execution_fee(False, 10**7) == 4_350_000 * 10**7


def test_a_multiplier_factor_scales_the_limit_only() -> None:
    t = VENUE.decode_terms(
        _results({**ARBITRUM, "ESTIMATED_GAS_FEE_MULTIPLIER_FACTOR": 13 * 10**29})  # 1.3x
    )
    assert t.increase_fee_gas == 600_000 + 750_000 + 5_070_000


def test_minimums_are_micro_usd_rounded_up() -> None:
    t = VENUE.decode_terms(_results(ARBITRUM))
    assert (t.min_position_usd_1e6, t.min_collateral_usd_1e6) == (1_000_000, 1_000_001)
    assert t.min_order_usd_1e6 == 0  # GMX checks the position, not each order
