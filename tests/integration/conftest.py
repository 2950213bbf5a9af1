"""Fixtures of the local GMX venue tests: one deployment per module, fresh funded wallets."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from core.adapters.chain import Chain
from core.adapters.gmx import local
from core.adapters.signers.local import LocalSigner
from tests.support.chain import ANVIL_KEY0
from tests.support.localgmx import CHAIN_ID, World


@pytest.fixture(scope="module")
def world(node_url: str) -> World:
    chain = Chain(node_url)
    deployer = LocalSigner.from_key(ANVIL_KEY0)
    return World(chain, node_url, local.deploy_local_gmx(chain, deployer, CHAIN_ID), deployer)


@pytest.fixture
def follower(world: World) -> LocalSigner:
    """A fresh wallet with 10 ETH, 1,000 USDC, and the router approved for all of it."""
    signer = LocalSigner.from_key("0x" + secrets.token_hex(32))
    world.chain.rpc("anvil_setBalance", signer.address, hex(10 * 10**18))
    local.fund_usdc(world.chain, world.deployer, CHAIN_ID, world.gmx, signer.address, 1_000 * 10**6)
    local.approve_usdc(world.chain, signer, CHAIN_ID, world.gmx, 1_000 * 10**6)
    return signer


@pytest.fixture
def restore_expiry(world: World) -> Iterator[None]:
    """The test may change REQUEST_EXPIRATION_TIME (to expire an order without moving the
    shared anvil's clock, which other tests read); it is restored after."""
    before = local.get_uint(world.chain, world.gmx, "REQUEST_EXPIRATION_TIME")
    yield
    local.set_uint(
        world.chain, world.deployer, CHAIN_ID, world.gmx, "REQUEST_EXPIRATION_TIME", before
    )
