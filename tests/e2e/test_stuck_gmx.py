"""RBF on the GMX venue, on an anvil that mines only when told: a stuck request is replaced
at the same nonce with the same calldata and the same value (the execution fee rides in the
calldata's sendWnt, decision 0020), and the replacement is what the keeper fills."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.adapters.chain import Chain
from core.adapters.gmx.keeper import DevKeeper
from core.adapters.signers.local import LocalSigner
from tests.support import procs
from tests.support.chain import ANVIL_KEY0
from tests.support.gmx import PRICES, request_fee
from tests.support.nomining import Rig, attempts_of, no_mining_rig, node_fees, sent_intent


@pytest.fixture(scope="module")
def rig(stack: Any, session_dir: Any) -> Iterator[Rig]:
    with no_mining_rig(stack, session_dir, "stuck-gmx", broker_db=17, venue_kind="gmx") as r:
        yield r


def _value(chain: Chain, tx_hash: str) -> int:
    return int(chain.rpc("eth_getTransactionByHash", tx_hash)["value"], 16)


def test_a_stuck_request_is_replaced_with_its_fee_and_the_replacement_is_filled(
    rig: Rig,
) -> None:
    flow = rig.flow()
    leader = flow.leader()
    rig.follower(flow, leader)
    stuck = sent_intent(flow, leader)
    fee1, _, nonce1, input1 = node_fees(rig.chain, stuck["tx_hash"])
    fee = request_fee(flow.s)  # sized for the fee ceiling: any replacement passes GMX's check
    assert fee > 0
    assert _value(rig.chain, stuck["tx_hash"]) == fee
    procs.wait_until(lambda: len(attempts_of(flow, stuck["id"])) >= 2, 15, "a replacement")
    second = attempts_of(flow, stuck["id"])[1]
    procs.wait_until(
        lambda: second["tx_hash"] in rig.chain.known([second["tx_hash"]]),
        5,
        "the replacement in the pool",
    )
    fee2, _, nonce2, input2 = node_fees(rig.chain, second["tx_hash"])
    assert (nonce2, input2) == (nonce1, input1)
    assert 8 * fee2 >= 9 * fee1
    assert _value(rig.chain, second["tx_hash"]) == fee  # the fee carried again
    rig.chain.rpc("anvil_setAutomine", True)
    try:
        rig.mine()
        procs.wait_until(
            lambda: flow.q.intent(stuck["id"])["state"] == "mined", 20, "the request mined"
        )
        keeper = DevKeeper(
            rig.chain,
            LocalSigner.from_key(ANVIL_KEY0),
            31337,
            rig.gmx,
            PRICES,
            delay_s=0,
        )
        keeper.next_block = 0
        procs.wait_until(lambda: keeper.round().executed == 1, 10, "the keeper filled it")
        procs.wait_until(lambda: flow.q.intent(stuck["id"])["state"] == "executed", 20, "executed")
        rig.mine(2)
        procs.wait_until(
            lambda: flow.q.intent(stuck["id"])["state"] == "confirmed", 20, "confirmed"
        )
    finally:
        rig.chain.rpc("anvil_setAutomine", False)
    done = flow.q.intent(stuck["id"])
    assert done["tx_hash"] != stuck["tx_hash"]  # a replacement was mined, with its fee
    assert _value(rig.chain, done["tx_hash"]) == fee
    assert done["fill_price_usd_1e6"] == PRICES["BTC"]
