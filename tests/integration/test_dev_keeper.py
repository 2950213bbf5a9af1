"""The dev keeper on the local GMX venue: a round acts on every due request in one
broadcast (a thousand warm-up requests of the B1 bench fill in a few blocks, not a
thousand), and one call that reverts does not stop the others."""

from __future__ import annotations

from core.adapters.gmx import local
from core.adapters.gmx.keeper import DevKeeper, Pending
from core.adapters.signers.local import LocalSigner
from tests.support.localgmx import (
    CHAIN_ID,
    ETH_1E6,
    MARKET_INCREASE,
    USD,
    World,
    create_order,
    events,
    open_long,
    order_params,
)

ORDERS = 8


def test_one_round_fills_every_due_request_in_one_broadcast_and_a_revert_stays_its_own(
    world: World, follower: LocalSigner
) -> None:
    done = open_long(world, follower)  # executed already: executing it again reverts
    keeper = DevKeeper(
        world.chain, world.deployer, CHAIN_ID, world.gmx, {"ETH": ETH_1E6}, delay_s=0, batch=5
    )
    keeper.next_block = world.chain.block_number() + 1  # only the requests made below
    keys = []
    for _ in range(ORDERS):
        params = order_params(
            world.gmx, follower.address, MARKET_INCREASE, 10, 10 * 10**6, 3_100 * 10**6
        )
        keys.append(create_order(world.chain, world.gmx, follower, params)[0])
    keeper._read()
    again = Pending("0x" + done.hex(), "ETH", True, True, 0.0)
    keeper.pending = {again.key: again, **keeper.pending}  # first: the batch's first nonce
    nonce = world.chain.nonce(world.deployer.address, "pending")

    r = keeper.round()

    assert (r.executed, r.cancelled, r.waiting) == (ORDERS, 0, 0)
    assert sorted(r.keys) == sorted(["0x" + k.hex() for k in keys] + ["0x" + done.hex()])
    assert keeper.pending == {}
    assert not set(keys) & set(local.pending_orders(world.chain, world.gmx))
    # consecutive nonces, sent together: the fills share blocks (one by one: one block each)
    assert world.chain.nonce(world.deployer.address, "latest") == nonce + ORDERS + 1
    blocks = set()
    for n in range(nonce, nonce + ORDERS + 1):
        tx = world.chain.rpc("eth_getTransactionBySenderAndNonce", world.deployer.address, hex(n))
        receipt = world.chain.rpc("eth_getTransactionReceipt", tx["hash"])
        blocks.add(int(receipt["blockNumber"], 16))
        assert len(events(receipt, world.gmx, "OrderExecuted")) == (1 if n > nonce else 0)
    assert len(blocks) <= ORDERS // 2
    size = local.position(world.chain, world.gmx, follower.address, "ETH", True)[0]
    assert size == (500 + 10 * ORDERS) * USD
