"""A GMX wallet and its subaccount for tests on the local venue: the wallet (a key copytrade
never holds) with gas, mock USDC and the Router approved; its one-time calls; a follower
whose key is the subaccount."""

from __future__ import annotations

import secrets

from core.adapters.gmx import subaccounts as standing
from core.adapters.gmx.local import calldata
from core.adapters.signers.local import LocalSigner
from core.adapters.venue_admin import send_and_wait
from core.domain.risk import Policy
from core.domain.sizing import parse_sizing
from core.domain.subaccounts import SubaccountTerms
from tests.support.chain import new_keystore, set_balance
from tests.support.flow import Flow
from tests.support.gmx import FUNDS


def usdc(flow: Flow, who: str) -> int:
    (raw,) = flow.s.chain.calls(flow.s.venue.collateral_calls(who)[:1])
    return int.from_bytes(raw, "big")


def head_time(flow: Flow) -> int:
    return int(flow.s.chain.head_time())


def wallet(flow: Flow) -> LocalSigner:
    """A wallet copytrade never holds the key of: gas, mock USDC, the Router approved."""
    w = LocalSigner.from_key("0x" + secrets.token_hex(32))
    set_balance(flow.s.chain, w.address, 10**19)
    g = flow.s.gmx
    for to, data in (
        (g.usdc, calldata("mint(address,uint256)", w.address, FUNDS)),
        (g.usdc, calldata("approve(address,uint256)", g.router, FUNDS)),
    ):
        send_and_wait(flow.s.chain, w, flow.s.settings.chain_id, to, data, gas=200_000)
    return w


def grant(flow: Flow, w: LocalSigner, sub: str, max_actions: int, expires_at: int) -> None:
    """The wallet's one-time calls (what `follower subaccount-setup` prints)."""
    data = standing.setup_calls(sub, max_actions, expires_at)
    send_and_wait(flow.s.chain, w, flow.s.settings.chain_id, flow.s.gmx.subaccount_router, data)


def revoke(flow: Flow, w: LocalSigner, sub: str) -> None:
    data = standing.revoke_call(sub)
    send_and_wait(flow.s.chain, w, flow.s.settings.chain_id, flow.s.gmx.subaccount_router, data)


def sub_follower(flow: Flow, leader: str, w: LocalSigner) -> tuple[int, str]:
    """A follower whose key (a keystore copytrade holds, with gas money only) is `w`'s
    subaccount."""
    ref, address = new_keystore(flow.stack.dir, flow.s.chain, eth=10)
    policy = Policy(10, 10**12, frozenset({"BTC", "ETH"}), parse_sizing("ratio:1"), 50)
    fid = flow.s.registry.add_follower(
        tg_user_id=42,
        leader_id=flow.s.registry.leader_id(leader),
        signer_ref=ref,
        address=address,
        policy=policy,
        in_cohort=True,
        actor="pytest",
        subaccount_of=w.address,
    )
    return fid, address


def terms(flow: Flow, w: str, sub: str) -> SubaccountTerms:
    return flow.s.venue.decode_subaccount(flow.s.chain.calls(flow.s.venue.subaccount_calls(w, sub)))
