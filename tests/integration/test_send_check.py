"""A refused broadcast decided from the chain, on a real node (the session's anvil): our own
transaction re-sent after it was mined is `known` whatever the node's words ("nonce too
low" on anvil); another transaction at a nonce already used stays `nonce_too_low`; a
refusal that leaves the nonce free keeps the message's class."""

from __future__ import annotations

import secrets

import pytest

from core.adapters.chain import Chain
from core.adapters.send_check import sender_and_nonce, tx_hash
from core.adapters.signers.local import LocalSigner
from core.domain.attempts import TxSpec
from core.domain.chain import settle_refusal
from core.domain.errors import WrongChain
from core.domain.fees import GWEI, Fees
from tests.support import procs
from tests.support.chain import set_balance

CHAIN_ID = 31337


def signed(signer: LocalSigner, nonce: int, tip_gwei: int = 1, to: str | None = None) -> bytes:
    fee = Fees(50 * GWEI, tip_gwei * GWEI)
    spec = TxSpec(CHAIN_ID, nonce, fee, to or signer.address, b"", 21_000)
    return bytes(signer.sign_transaction(spec.as_dict()).raw)


@pytest.fixture
def wallet(node_url: str) -> tuple[Chain, LocalSigner]:
    chain = Chain(node_url)
    signer = LocalSigner.from_key("0x" + secrets.token_hex(32))
    set_balance(chain, signer.address, 10**18)
    return chain, signer


def test_our_mined_transaction_sent_again_is_known_not_nonce_too_low(
    wallet: tuple[Chain, LocalSigner],
) -> None:
    chain, signer = wallet
    raw = signed(signer, 0)
    (first,) = chain.send_raw([raw])
    assert first.accepted
    procs.wait_until(lambda: chain.receipts([tx_hash(raw)]), 20, "mined")
    (again,) = chain.send_raw([raw])
    assert "nonce" in again.message.lower()  # what anvil says: the message alone misleads
    assert (again.kind, again.accepted, again.tx_hash) == ("known", True, tx_hash(raw))


def test_another_transaction_at_a_used_nonce_is_nonce_too_low(
    wallet: tuple[Chain, LocalSigner],
) -> None:
    chain, signer = wallet
    raw = signed(signer, 0)
    chain.send_raw([raw])
    procs.wait_until(lambda: chain.receipts([tx_hash(raw)]), 20, "mined")
    other = signed(signer, 0, tip_gwei=3)
    (out,) = chain.send_raw([other])
    assert (out.kind, out.accepted) == ("nonce_too_low", False)


def test_a_refusal_that_leaves_the_nonce_free_keeps_the_message_s_class(
    wallet: tuple[Chain, LocalSigner],
) -> None:
    chain, signer = wallet
    chain.rpc("anvil_setBalance", signer.address, hex(10**9))  # not enough for the fee
    (out,) = chain.send_raw([signed(signer, 0)])
    assert (out.kind, out.accepted) == ("insufficient_funds", False)


def test_a_check_that_meets_the_wrong_chain_leaves_the_message_s_class(
    wallet: tuple[Chain, LocalSigner],
) -> None:
    """The broadcast went to the right chain; the endpoint then answers for another (a node
    restarted fresh): the check cannot decide, so the refusal keeps the message's class
    and the outcomes are returned (raising would lose what was already sent)."""
    node, signer = wallet
    raw = signed(signer, 0)
    node.send_raw([raw])
    procs.wait_until(lambda: node.receipts([tx_hash(raw)]), 20, "mined")
    checks: list[str] = []

    def identity(chain_id: int, genesis: str) -> None:
        checks.append(genesis)
        if len(checks) > 2:  # the broadcast's two checks (before, and with its replies) pass
            raise WrongChain(f"genesis {genesis} is not the recorded one")

    chain = Chain(node.rpc_url, identity_check=identity)
    (again,) = chain.send_raw([raw])
    assert len(checks) == 3  # the check ran, and met the wrong chain
    assert (again.kind, again.accepted) == ("nonce_too_low", False)  # anvil's words


def test_the_sender_and_nonce_are_read_from_the_signed_bytes() -> None:
    signer = LocalSigner.from_key("0x" + secrets.token_hex(32))
    assert sender_and_nonce(signed(signer, 7)) == (signer.address, 7)


@pytest.mark.parametrize(
    ("kind", "ours", "count", "nonce", "want"),
    [
        ("underpriced", True, None, 5, "known"),  # Ganache's word for a duplicate
        ("error", False, 6, 5, "nonce_too_low"),  # "the tx doesn't have the correct nonce"
        ("nonce_too_low", False, 5, 5, "error"),  # the chain says the nonce is free
        ("underpriced", False, 5, 5, "underpriced"),
        ("insufficient_funds", False, 0, 0, "insufficient_funds"),
    ],
)
def test_settle_refusal(kind: str, ours: bool, count: int | None, nonce: int, want: str) -> None:
    assert settle_refusal(kind, ours, count, nonce) == want
