"""The stuck-transaction work of the `stuck_scan` beat and `copytrade intent cancel`, one
role per module, composed here:

- core/domain/stuck.py — the decision per intent (pure);
- core/services/stuck.py — the scan that carries it out;
- core/services/replacing.py — replace-by-fee at the same nonce, hold at the fee ceiling,
  the same bytes again;
- core/services/cancelling.py — the no-op cancel that gives a nonce back;
- core/services/nonce_sync.py — nonces used outside the system, and the re-sign;
- core/services/sending.py — the one broadcast path (window, metrics, outcome recorded).

Every new attempt is claimed by compare-and-set on its attempt number and written ahead
with its signed bytes before the broadcast; every broadcast happens inside the mode
service's broadcast window (the verdict read again right before each chunk)."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain import fees as feemath
from core.domain import stuck
from core.domain.attempts import CANCEL_GAS
from core.domain.fees import Fees
from core.ports import MaintenanceChain, NonceAuditor, OrderRoute, ResignStore, SignerSource
from core.services.cancelling import Canceller
from core.services.mode import ModeService
from core.services.nonce_sync import NonceSync, SyncConfig
from core.services.replacing import Replacer, Target
from core.services.sending import Sender
from core.services.stuck import ScanResult, StuckScan

__all__ = ["CANCEL_GAS", "Maintenance", "MaintenanceConfig", "ScanResult"]


@dataclass(frozen=True)
class MaintenanceConfig:
    chain_id: int
    fee_ceiling_wei: int
    min_tip_wei: int
    stuck_after_s: float
    stuck_after_blocks: int
    sent_expiry_s: float
    max_signal_age_s: float
    confirmations: int = 2


class Maintenance:
    def __init__(
        self,
        store: ResignStore,
        chain: MaintenanceChain,
        mode: ModeService,
        cfg: MaintenanceConfig,
        signers: SignerSource,
        audit_nonce: NonceAuditor,
        route: OrderRoute,
    ) -> None:
        """`route`: where an order's calldata goes and the wei it carries (the venue), so a
        replacement or re-sign sends what the first attempt sent, where it went."""
        self.chain = chain
        self.cfg = cfg
        sender = Sender(mode, chain)
        self.replacer = Replacer(store, sender, signers, Target(cfg.chain_id, route))
        self.canceller = Canceller(
            store, self.replacer, self._market, cfg.fee_ceiling_wei, cfg.max_signal_age_s
        )
        rules = stuck.Rules(
            cfg.fee_ceiling_wei,
            cfg.stuck_after_s,
            cfg.stuck_after_blocks,
            cfg.sent_expiry_s,
            cfg.max_signal_age_s,
        )
        self.stuck = StuckScan(store, chain, self.replacer, self.canceller, rules, cfg.min_tip_wei)
        self.nonce_sync = NonceSync(
            store,
            chain,
            mode,
            sender,
            signers,
            audit_nonce,
            self._market,
            SyncConfig(cfg.chain_id, cfg.fee_ceiling_wei, cfg.confirmations, route),
        )

    def _market(self) -> Fees:
        base, rewards = self.chain.fee_history()
        return feemath.suggest(base, rewards, self.cfg.min_tip_wei)

    def scan(self) -> ScanResult:
        """One round: every stuck, held or expired intent gets at most one new attempt."""
        return self.stuck.scan()

    def cancel(self, intent_id: int) -> bool:
        """Operator cancel (`copytrade intent cancel ID`): a no-op at the intent's nonce."""
        return self.canceller.operator(intent_id)

    def cancel_stale_signed(self) -> int:
        """Signed intents past their signal's max age: give the nonce back with a no-op."""
        return self.canceller.stale_signed()

    def reconcile_nonces(self) -> int:
        """Our nonces used outside the system: re-sign those intents (core/services/
        nonce_sync.py says how it is decided)."""
        return self.nonce_sync.reconcile()
