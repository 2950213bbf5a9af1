"""A hosted provider's limits, with a scripted HTTP stub in front of the session's anvil:
a batch refused as too large (an error object, or HTTP 413) is asked again in halves, down
to single calls for a provider that takes no batch at all — the answers are the node's, in
order; HTTP 429 rests the endpoint for its Retry-After and raises a TransientError (the
task retries later with the same bytes), and the endpoint is used again after it."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest

from core.adapters.chain import Chain
from core.adapters.rpc_limits import retry_after
from core.domain.errors import TransientError
from tests.support.rpc_stub import RpcStub

ADDRESSES = ["0x" + secrets.token_hex(20) for _ in range(40)]


@pytest.fixture
def stub(node_url: str) -> Iterator[RpcStub]:
    s = RpcStub(node_url)
    yield s
    s.stop()


def test_a_batch_too_large_is_asked_again_in_halves(node_url: str, stub: RpcStub) -> None:
    stub.script.max_batch = 10
    chain = Chain(stub.url, batch_max=40)
    got = chain.balances(ADDRESSES)
    assert got == Chain(node_url).balances(ADDRESSES)
    assert chain.batch_max == 10  # 40 -> 20 -> 10, and it stays there for the process
    assert max(stub.script.requests[-4:]) <= 10


def test_http_413_is_too_large_as_well(stub: RpcStub) -> None:
    stub.script.max_batch, stub.script.refuse_as_413 = 5, True
    chain = Chain(stub.url, batch_max=16)
    assert len(chain.balances(ADDRESSES[:12])) == 12
    assert chain.batch_max == 4


def test_a_provider_that_takes_no_batch_is_asked_one_call_at_a_time(stub: RpcStub) -> None:
    stub.script.max_batch = 0
    chain = Chain(stub.url, batch_max=4)
    assert chain.nonces(ADDRESSES[:3]) == {a: 0 for a in ADDRESSES[:3]}
    assert chain.batch_max == 0
    assert set(stub.script.requests[-3:]) == {1}


def test_429_rests_the_endpoint_for_its_retry_after_then_it_is_used_again(
    stub: RpcStub,
) -> None:
    stub.script.throttle, stub.script.retry_after = 1, "2"
    chain = Chain(stub.url)
    with pytest.raises(TransientError, match="rate limited for 2 s"):
        chain.block_number()
    assert chain.endpoints[0].down_until - time.monotonic() > 1  # resting, not hammered
    chain.endpoints[0].down_until = 0  # its time is up
    assert chain.block_number() > 0


def test_retry_after_is_bounded_and_junk_is_the_default() -> None:
    assert retry_after("7") == 7
    assert retry_after(None) == 1
    assert retry_after("Wed, 21 Oct 2026 07:28:00 GMT") == 1
    assert retry_after("100000") == 300
