"""`copytrade follower approve`: the follower's one-time approval of the venue for its
collateral (GMX: USDC to the Router that sendTokens pulls with), from the follower's own
wallet. Idempotent: an allowance already at the amount sends nothing."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from core.domain import attempts, fees
from core.domain.chain import Guard, Receipt, SendOutcome
from core.domain.errors import ChainError, ConfigError, TransientError, UnsafeToSend
from core.domain.rows import FollowerRow
from core.domain.venue import Call
from core.ports import SignerSource, Venue, WalletTxs
from core.services.mode import ModeService


class ApprovalChain(Protocol):
    def calls(self, calls: Sequence[Call]) -> list[bytes]: ...
    def fee_history(self, blocks: int = 5, percentile: int = 50) -> tuple[int, list[int]]: ...
    def nonce(self, address: str, block: str = "latest") -> int: ...
    def receipts(self, hashes: Sequence[str]) -> dict[str, Receipt]: ...
    def send_raw(self, raws: Sequence[bytes], guard: Guard | None = None) -> list[SendOutcome]: ...


@dataclass(frozen=True)
class Approval:
    follower_id: int
    address: str
    amount_usd_1e6: int
    allowance_before_usd_1e6: int
    tx_hash: str | None  # None: the allowance already covered the amount, nothing sent


class Approvals:
    def __init__(
        self,
        venue: Venue,
        chain: ApprovalChain,
        mode: ModeService,
        wallet_txs: WalletTxs,
        signers: SignerSource,
        chain_id: int,
        fee_caps: tuple[int, int],  # (min tip, fee ceiling) in wei
        timeout_s: float = 60.0,
    ) -> None:
        self.venue, self.chain, self.mode = venue, chain, mode
        self.wallet_txs, self.signers = wallet_txs, signers
        self.chain_id, (self.min_tip_wei, self.fee_ceiling_wei) = chain_id, fee_caps
        self.timeout_s = timeout_s

    @property
    def takes_collateral(self) -> bool:
        return self.venue.approve_call(1) is not None

    def held(self, addresses: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Each address's (collateral balance, allowance to the venue) in micro-USD, one
        batch of reads; {} on a venue that takes no collateral."""
        calls = {a: self.venue.collateral_calls(a) for a in addresses}
        flat = [c for a in addresses for c in calls[a]]
        if not flat:
            return {}
        results, out, at = self.chain.calls(flat), {}, 0
        for a in addresses:
            out[a] = self.venue.decode_collateral(results[at : at + len(calls[a])])
            at += len(calls[a])
        return out

    def approve(
        self, follower: FollowerRow, amount_usd_1e6: int, actor: str, reason: str | None
    ) -> Approval:
        call = self.venue.approve_call(amount_usd_1e6)
        if call is None:
            raise ConfigError("this venue takes no collateral: there is nothing to approve")
        if amount_usd_1e6 <= 0:
            raise ConfigError("the amount to approve must be more than 0")
        (_, allowed) = self.held([follower.account])[follower.account]
        if allowed >= amount_usd_1e6:
            return Approval(follower.id, follower.account, amount_usd_1e6, allowed, None)
        if follower.subaccount_of:
            raise ConfigError(
                f"follower {follower.id} trades through a subaccount of {follower.subaccount_of}: "
                "copytrade does not hold that wallet's key; the wallet approves the Router "
                f"itself (copytrade follower subaccount-setup {follower.id})"
            )
        signer = self.signers(follower.signer_ref)
        if signer.address != follower.address:
            raise ConfigError(f"follower {follower.id}: its signer is {signer.address}")

        def send(nonce: int) -> str:
            fee = fees.capped(
                fees.suggest(*self.chain.fee_history(), self.min_tip_wei), self.fee_ceiling_wei
            )
            spec = attempts.wallet_call(self.chain_id, nonce, fee, call.to, call.data)
            signed = signer.sign_transaction(spec.as_dict())
            # Set-up, not an order: it goes out in DRY too (approve before going LIVE), but
            # never while the emergency stop is on.
            if self.mode.stopped():
                raise UnsafeToSend("the emergency stop is on: `copytrade resume` first")
            (out,) = self.chain.send_raw([signed.raw])
            if not out.accepted:  # the nonce stays free: rolled back with the bump
                raise ChainError(f"the approval was refused by the node: {out.message}")
            return signed.tx_hash

        details = {
            "follower_id": follower.id,
            "address": follower.address,
            "token": call.to,
            "amount_usd_1e6": amount_usd_1e6,
            "allowance_before_usd_1e6": allowed,
        }
        tx_hash = self.wallet_txs.spend_nonce(
            follower.address,
            self.chain_id,
            lambda: self.chain.nonce(follower.address, "pending"),
            send,
            (actor, "follower.approve", reason, details),
        )
        # Waited for outside the signer lock and after the nonce is counted: the node has
        # it, so the nonce is used whatever happens to it now (mined late, or reverted).
        self._wait(tx_hash)
        return Approval(follower.id, follower.address, amount_usd_1e6, allowed, tx_hash)

    def _wait(self, tx_hash: str) -> None:
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            found = self.chain.receipts([tx_hash])
            if tx_hash in found:
                if found[tx_hash].status != 1:
                    raise ChainError(f"the approval {tx_hash} reverted")
                return
            time.sleep(0.2)
        raise TransientError(f"the approval {tx_hash} was not mined within {self.timeout_s:g} s")
