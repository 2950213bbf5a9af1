"""The local GMX venue's execution fee and minimums, as GMX v2 applies them
(GasUtils.validateExecutionFee / payExecutionFee, MIN_POSITION_SIZE_USD): the fee copytrade
computes from the venue's own DataStore keys is the least the venue accepts at a request's
gas price, one wei less is refused with GMX's error, a fee sized for the fee ceiling passes
at any gas price up to it (a replacement's), the keeper is paid the gas it used and the
rest goes back to the receiver; an open under the minimum size is cancelled by the keeper
with GMX's reason."""

from __future__ import annotations

from typing import Any

from eth_abi import decode

from core.adapters.chain import Chain
from core.adapters.gmx import local
from core.adapters.gmx.configure import gmx_config
from core.adapters.gmx.venue import GmxVenue
from core.adapters.signers.local import LocalSigner
from core.domain.fees import GWEI, Fees
from core.domain.venue import VenueTerms
from tests.support.localgmx import (
    CHAIN_ID,
    ETH_1E6,
    MARKET_INCREASE,
    World,
    create_order,
    error_types,
    multicall,
    one,
    order_params,
    revert_data,
    selector,
)


def terms_of(world: World) -> VenueTerms:
    """What copytrade reads: the Venue port over this deployment's settings."""
    env = local.settings_for(world.gmx)
    venue = GmxVenue(
        gmx_config(CHAIN_ID, env["COPYTRADE_GMX_CONTRACTS"], env["COPYTRADE_GMX_MARKETS"])
    )
    return venue.decode_terms(world.chain.calls(venue.terms_calls()))


def _open(world: World, follower: LocalSigner, fee: int, size_usd: int = 500) -> tuple[Any, ...]:
    return order_params(
        world.gmx, follower.address, MARKET_INCREASE, size_usd, 100 * 10**6, 3_100 * 10**6, fee=fee
    )


def _refused_fee(world: World, follower: LocalSigner, fee: int, gas_price: int) -> bytes:
    params = _open(world, follower, fee)
    return revert_data(
        world.url,
        follower.address,
        world.gmx.exchange_router,
        multicall(world.gmx, params),
        fee,
        gas_price,
    )


def _accepted(chain: Chain, world: World, follower: LocalSigner, fee: int, gas_price: int) -> None:
    data = multicall(world.gmx, _open(world, follower, fee))
    tx = {
        "from": follower.address,
        "to": world.gmx.exchange_router,
        "data": "0x" + data.hex(),
        "value": hex(fee),
        "gasPrice": hex(gas_price),
    }
    chain.rpc("eth_call", tx, "latest")  # raises ChainError on a revert


def test_the_fee_copytrade_computes_is_the_least_the_venue_accepts(
    world: World, follower: LocalSigner
) -> None:
    terms = terms_of(world)
    # GasUtils.adjustGasLimitForEstimate on the local keys: 100k + 10k x 3 + 300k x 1.0
    assert (terms.increase_fee_gas, terms.decrease_fee_gas) == (430_000, 430_000)
    assert (terms.min_position_usd_1e6, terms.min_collateral_usd_1e6) == (10**6, 10**6)
    gas_price = 3 * GWEI
    need = terms.execution_fee(True, gas_price)
    _accepted(world.chain, world, follower, need, gas_price)
    data = _refused_fee(world, follower, need - 1, gas_price)
    assert data[:4] == selector("InsufficientExecutionFee")  # GMX's error, from the SDK's ABI
    assert decode(error_types("InsufficientExecutionFee"), data[4:]) == (need, need - 1)


def test_a_fee_for_the_ceiling_passes_at_every_gas_price_up_to_it(
    world: World, follower: LocalSigner
) -> None:
    """A replacement raises tx.gasprice with the same calldata (decision 0022)."""
    terms = terms_of(world)
    ceiling = 50 * GWEI
    fee = terms.execution_fee(True, ceiling)
    for gas_price in (1 * GWEI, 13 * GWEI, ceiling):
        _accepted(world.chain, world, follower, fee, gas_price)
    data = _refused_fee(world, follower, fee, ceiling + 1)  # above the ceiling: never ours
    assert data[:4] == selector("InsufficientExecutionFee")


def test_the_keeper_is_paid_the_gas_it_used_and_the_rest_goes_back_to_the_receiver(
    world: World, follower: LocalSigner
) -> None:
    chain, gmx = world.chain, world.gmx
    fee = terms_of(world).execution_fee(True, 50 * GWEI)
    key, _ = create_order(chain, gmx, follower, _open(world, follower, fee))
    before = chain.balance(follower.address)
    receipt = local.keeper_execute(chain, world.deployer, CHAIN_ID, gmx, key, ETH_1E6, "ETH")
    refund = chain.balance(follower.address) - before  # the follower sent nothing meanwhile
    keeper_got = fee - refund
    # The keeper's share: the adjusted gas it used at its own gas price, no more.
    used = int(receipt["gasUsed"], 16)
    price = int(receipt["effectiveGasPrice"], 16)
    assert 0 < keeper_got <= (100_000 + 10_000 * 3 + used) * price
    assert refund > fee // 2  # the surplus of a fee sized for 50 gwei went back


def test_an_open_under_the_minimum_size_is_cancelled_with_gmx_s_reason(
    world: World, follower: LocalSigner
) -> None:
    chain, gmx = world.chain, world.gmx
    fee = terms_of(world).execution_fee(True, 50 * GWEI)
    params = order_params(
        gmx, follower.address, MARKET_INCREASE, 0, 100 * 10**6, 3_100 * 10**6, fee=fee
    )
    key, _ = create_order(chain, gmx, follower, params, Fees(5 * GWEI, 2 * GWEI))
    receipt = local.keeper_execute(chain, world.deployer, CHAIN_ID, gmx, key, ETH_1E6, "ETH")
    cancelled = one(receipt, gmx, "OrderCancelled")
    assert cancelled.items["string"]["reason"] == "MinPositionSize"
    reason_bytes = cancelled.items["bytes"]["reasonBytes"]
    assert reason_bytes[:4] == selector("MinPositionSize")
    assert decode(error_types("MinPositionSize"), reason_bytes[4:]) == (0, 10**30)
