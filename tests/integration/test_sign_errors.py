"""A key that resolves but refuses to sign (a KMS key disabled after the check) fails that
follower's intent alone: the other followers of the signal are signed in the same
transaction at their nonces, and the failed one takes no nonce. Real PostgreSQL; the
store's own signing transaction (NonceStore.sign_created)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.bootstrap import Services
from core.domain.errors import SignerError
from core.domain.rows import Signed, ToSign
from core.domain.signals import parse_signal
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import settings_with


@pytest.fixture
def world(stack: Any) -> Iterator[Flow]:
    with fresh_database("ct_signerr") as url:
        s = Services(settings_with({**stack.env, "COPYTRADE_DATABASE_URL": url}))
        yield Flow(stack, services=s)
        s.db.dispose()


def test_a_signer_that_refuses_fails_only_its_own_intent(world: Flow) -> None:
    flow, s = world, world.s
    leader = flow.leader()
    good, good_addr = flow.follower(leader)
    bad, bad_addr = flow.follower(leader)
    spec = parse_signal(flow.payload(leader, collateral_usd="10", leverage=1))
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    s.pipeline.size(pk)
    s.nonces.init_signers({good_addr: 5, bad_addr: 9}, s.settings.chain_id)
    todo, _, _ = s.intents.created_and_age(pk)

    def sign(t: ToSign, nonce: int) -> Signed:
        if t.signer_address == bad_addr:
            raise SignerError("kms key disabled")
        return Signed(b"raw", "0x" + f"{t.intent_id:064x}", b"data", 2, 1, 21_000)

    signed, left = s.nonces.sign_created(pk, sign, [t.intent_id for t in todo])

    assert (signed, left) == (1, 0)
    got = flow.intents(spec.signal_id)
    assert (got[good]["state"], got[good]["nonce"]) == ("signed", 5)
    assert (got[bad]["state"], got[bad]["reason"], got[bad]["nonce"]) == (
        "failed",
        "signer_error",
        None,
    )
    # The refused signer's next nonce is untouched; the other's moved on by one.
    assert s.audit_queries.signers() == {good_addr: 6, bad_addr: 9}
