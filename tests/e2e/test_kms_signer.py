"""KMS signing against moto's KMS, served over HTTP so the prefork workers reach it.

moto signs `Message` with ECDSA_SHA_256 as if it were the raw message, hashing it again
even with `MessageType=DIGEST`; real KMS signs the digest as given. The fixture patches
moto's ECDSA key to sign the 32 bytes as a prehashed SHA-256 digest — the only change."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from eth_account import Account

from core.adapters.signers.kms import SECP256K1_N, KmsSigner
from core.domain.errors import SignerError
from core.domain.risk import Policy
from core.domain.sizing import parse_sizing
from tests.support import procs
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import live_worker_set

AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def kms(monkeypatch_module: Any) -> Iterator[tuple[Any, Any]]:
    from moto.kms import utils as moto_kms

    def sign_digest(self: Any, message: bytes, signing_algorithm: str) -> bytes:
        return bytes(self.private_key.sign(message, ec.ECDSA(utils.Prehashed(hashes.SHA256()))))

    monkeypatch_module.setattr(moto_kms.ECDSAPrivateKey, "sign", sign_digest)
    for k, v in AWS.items():
        monkeypatch_module.setenv(k, v)
    server = Server(procs.free_port())
    server.start()
    try:
        yield boto3.client("kms", endpoint_url=server.url, region_name="us-east-1"), server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


class Server:
    """moto's server on a fixed port, stoppable and startable again (its keys live in
    this process, so they survive a restart)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server: Any = None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port)
        self._server.start()
        procs.wait_until(lambda: procs.port_open(self.port), 10, "moto")

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def new_key(client: Any, spec: str = "ECC_SECG_P256K1") -> str:
    return str(client.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"])


def assert_signs(signer: KmsSigner, count: int) -> None:
    """`count` self-sends signed by the key: each recovers to its address, each low-s."""
    for nonce in range(count):
        tx = {
            "type": 2,
            "chainId": 31337,
            "nonce": nonce,
            "to": signer.address,
            "value": 0,
            "data": secrets.token_bytes(8),
            "gas": 21_000,
            "maxFeePerGas": 10**9,
            "maxPriorityFeePerGas": 10**8,
        }
        signed = signer.sign_transaction(tx)
        assert Account.recover_transaction(signed.raw) == signer.address
        assert _typed_fields(signed.raw)["s"] <= SECP256K1_N // 2


def test_many_kms_signatures_verify_and_are_low_s(kms: tuple[Any, Any]) -> None:
    client, _ = kms
    signer = KmsSigner(client, new_key(client))
    assert_signs(signer, 100)
    assert "PRIVATE" not in repr(signer).upper()


def _typed_fields(raw: bytes) -> dict[str, int]:
    from eth_account.typed_transactions import TypedTransaction
    from hexbytes import HexBytes

    d = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
    return {"s": int(d["s"]), "r": int(d["r"])}


def test_a_key_of_the_wrong_spec_or_unknown_id_is_a_clear_error(kms: tuple[Any, Any]) -> None:
    client, _ = kms
    with pytest.raises(SignerError, match="need ECC_SECG_P256K1"):
        KmsSigner(client, new_key(client, "ECC_NIST_P256"))
    with pytest.raises(SignerError, match="kms:nope"):
        KmsSigner(client, "nope")


@pytest.fixture(scope="module")
def rig(stack: Any, kms: tuple[Any, Any]) -> Iterator[Flow]:
    _, server = kms
    with (
        fresh_database("ct_kms") as db_url,
        live_worker_set(
            stack,
            "kms",
            13,
            db_url,
            COPYTRADE_KMS_ENDPOINT_URL=server.url,
            COPYTRADE_KMS_TIMEOUT_S="1",
            COPYTRADE_RECONCILE_IDLE_AFTER_S="2",
            **AWS,
        ) as ws,
    ):
        yield Flow(stack, ws.workers, services=ws.services)


def kms_follower(flow: Flow, client: Any, leader: str) -> tuple[int, str]:
    s = flow.s
    key_id = new_key(client)
    address = KmsSigner(client, key_id).address
    s.chain.rpc("anvil_setBalance", address, hex(10**19))
    fid = s.registry.add_follower(
        tg_user_id=77,
        leader_id=s.registry.leader_id(leader),
        signer_ref=f"kms:{key_id}",
        address=address,
        policy=Policy(10, 10**12, frozenset({"BTC"}), parse_sizing("ratio:1")),
        in_cohort=True,
        actor="pytest",
    )
    return fid, address


def test_a_kms_follower_order_is_mined_from_the_kms_address(
    rig: Flow, kms: tuple[Any, Any]
) -> None:
    flow, (client, _) = rig, kms
    leader = flow.leader()
    fid, address = kms_follower(flow, client, leader)
    _, plain = flow.follower(leader)  # a keystore follower in the same signal
    p = flow.payload(leader, collateral_usd="10", leverage=2)
    assert flow.submit(p)["status"] == "accepted"
    assert flow.wait_done(p["signal_id"], timeout=60)["state"] == "done"
    got = flow.intents(p["signal_id"])
    assert got[fid]["state"] == "confirmed"
    tx = flow.s.chain.rpc("eth_getTransactionByHash", got[fid]["tx_hash"])
    assert tx["from"].lower() == address.lower()
    assert int(tx["s"], 16) <= SECP256K1_N // 2
    assert flow.position(address).size_usd_1e6 == 20 * 10**6
    assert flow.position(plain).size_usd_1e6 == 20 * 10**6


def test_kms_unreachable_holds_only_its_follower(rig: Flow, kms: tuple[Any, Any]) -> None:
    """KMS down (its server stopped) while a signal is built: the keystore follower's
    order goes out; the KMS follower's waits `created` (no nonce) and goes out once KMS
    is back."""
    flow, (client, server) = rig, kms
    leader = flow.leader()
    fid, address = kms_follower(flow, client, leader)
    warm = flow.payload(leader, collateral_usd="2", leverage=1)  # KMS signer resolved
    flow.submit(warm)
    flow.wait_done(warm["signal_id"], timeout=60)
    _, plain = flow.follower(leader)
    server.stop()
    try:
        p = flow.payload(leader, action="increase", collateral_usd="3", leverage=1)
        flow.submit(p)
        procs.wait_until(
            lambda: flow.position(plain).size_usd_1e6 == 3 * 10**6, 30, "the other mined"
        )
        mine = flow.intents(p["signal_id"])[fid]
        assert (mine["state"], mine["nonce"]) == ("created", None)
    finally:
        server.start()
    assert flow.wait_done(p["signal_id"], timeout=60)["state"] == "done"
    assert flow.intents(p["signal_id"])[fid]["state"] == "confirmed"
    assert flow.position(address).size_usd_1e6 == 5 * 10**6


@pytest.mark.skipif(
    not os.environ.get("COPYTRADE_TEST_AWS_KMS_KEY_ID"),
    reason="opt-in: set COPYTRADE_TEST_AWS_KMS_KEY_ID (and AWS credentials) to sign with real KMS",
)
def test_real_aws_kms_key_signs_recoverable_low_s_transactions() -> None:
    """Against real AWS KMS (opt-in): the same checks as with moto, nothing patched."""
    region = os.environ.get("COPYTRADE_KMS_REGION", "us-east-1")
    client = boto3.client("kms", region_name=region)
    signer = KmsSigner(client, os.environ["COPYTRADE_TEST_AWS_KMS_KEY_ID"])
    assert_signs(signer, 5)
