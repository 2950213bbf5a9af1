"""`copytrade follower approve` on the local GMX venue: the follower's own wallet approves
GMX's Router for its USDC, at the signer's next nonce as the nonce allocator counts it,
audited; run twice it sends one approval; `follower list` shows the balance and the
allowance; refused while an order of the follower is unfinished, and on a venue that takes
no collateral."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from core.adapters.gmx import local
from core.domain.signals import parse_signal
from core.domain.types import USD
from tests.support.gmx_rig import Rig, cli, gmx_rig


@pytest.fixture(scope="module")
def rig(stack: Any) -> Iterator[Rig]:
    with gmx_rig(stack, "ct_approve") as r:
        yield r


def _unfunded_follower(rig: Rig) -> tuple[int, str]:
    """A follower with ETH and USDC but no allowance (Flow's followers are approved)."""
    s = rig.flow.s
    fid, address = rig.flow.follower(rig.flow.leader())
    local.approve_usdc(s.chain, _signer(rig, fid), 31337, rig.gmx, 0)  # back to none
    return fid, address


def _signer(rig: Rig, fid: int) -> Any:
    from core.adapters.signers.factory import resolve

    return resolve(rig.flow.s.registry.follower(fid).signer_ref)


def _allowance(rig: Rig, address: str) -> int:
    return rig.flow.s.approvals.held([address])[address][1]


def test_approve_sends_one_approval_at_the_allocators_nonce_and_is_audited(rig: Rig) -> None:
    s = rig.flow.s
    fid, address = _unfunded_follower(rig)
    assert _allowance(rig, address) == 0
    nonce = s.chain.nonce(address, "pending")
    first = cli(rig.env, "follower", "approve", str(fid), "--amount", "500", "--json")
    assert first.returncode == 0, first.stderr
    got = json.loads(first.stdout)
    assert (got["sent"], got["amount_usd"]) == (True, "500")
    assert _allowance(rig, address) == 500 * USD
    assert s.chain.nonce(address) == nonce + 1
    with s.db.tx() as conn:  # the allocator counts the nonce the approval took
        (nxt,) = conn.execute(
            text("SELECT next_nonce FROM signers WHERE address = :a"), {"a": address}
        ).one()
        (audit,) = conn.execute(
            text("SELECT details FROM audit_log WHERE action = 'follower.approve'"
                 " AND details->>'address' = :a"), {"a": address},
        ).one()  # fmt: skip
    assert nxt == nonce + 1
    assert (audit["tx_hash"], audit["nonce"], audit["amount_usd_1e6"]) == (
        got["tx_hash"],
        nonce,
        500 * USD,
    )
    again = cli(rig.env, "follower", "approve", str(fid), "--amount", "500", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["sent"] is False  # idempotent: nothing sent
    assert s.chain.nonce(address) == nonce + 1


def test_follower_list_shows_the_balance_and_the_allowance(rig: Rig) -> None:
    fid, address = _unfunded_follower(rig)
    out = cli(rig.env, "follower", "list", "--json")
    assert out.returncode == 0, out.stderr
    (row,) = [r for r in json.loads(out.stdout) if r["id"] == fid]
    assert (row["usdc_1e6"], row["usdc_approved_1e6"]) == (100_000 * USD, 0)
    table = cli({**rig.env, "COLUMNS": "250"}, "follower", "list")
    assert "usdc_approved" in table.stdout


def test_approve_is_refused_while_an_order_of_the_follower_is_unfinished(rig: Rig) -> None:
    s = rig.flow.s
    fid, address = _unfunded_follower(rig)
    leader = s.registry.follower(fid).leader_address
    spec = parse_signal(rig.flow.payload(leader, collateral_usd="10", leverage=1))
    _, pk = s.signals.insert_signal(spec, s.registry.leader_id(leader), "test")
    s.pipeline.validate(pk)
    assert s.pipeline.size(pk) == (1, 0)  # created: sized, no nonce yet
    refused = cli(rig.env, "follower", "approve", str(fid), "--amount", "10")
    assert refused.returncode != 0
    assert "unfinished" in (refused.stderr + refused.stdout)
    assert _allowance(rig, address) == 0


def test_bad_input_is_a_clear_error(rig: Rig, stack: Any) -> None:
    fid, _ = _unfunded_follower(rig)
    bad_token = cli(rig.env, "follower", "approve", str(fid), "--amount", "1", "--token", "DAI")
    assert bad_token.returncode == 2
    assert "the venue takes USDC" in bad_token.stderr
    bad_amount = cli(rig.env, "follower", "approve", str(fid), "--amount", "lots")
    assert bad_amount.returncode == 2
    simple = cli(stack.env, "follower", "approve", "1", "--amount", "1")
    assert simple.returncode != 0
    assert "takes no collateral" in (simple.stderr + simple.stdout)
