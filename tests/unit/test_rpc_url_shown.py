"""A hosted RPC's key (in its URL path or query) never reaches an error message or a log
line: the endpoint is shown masked."""

from __future__ import annotations

import pytest

from core.adapters.chain import Chain
from core.domain.errors import TransientError
from tests.support.procs import free_port


@pytest.mark.parametrize(
    "secret_url",
    [
        "http://127.0.0.1:{port}/v2/SECRETKEY",
        "http://user:SECRETKEY@127.0.0.1:{port}/?key=SECRETKEY",
    ],
)
def test_an_endpoint_that_does_not_answer_is_named_without_its_key(secret_url: str) -> None:
    port = free_port()  # nothing listens there
    chain = Chain(secret_url.format(port=port), timeout_s=1)
    with pytest.raises(TransientError) as err:
        chain.block_number()
    assert f"127.0.0.1:{port}/***" in str(err.value)
    assert "SECRETKEY" not in str(err.value)
