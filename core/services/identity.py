"""The chain this system trades on: the chain id and genesis hash recorded at first start
must be the node's, before anything is sent (a node swapped under us, a fork, a devnet
restarted with the same id)."""

from __future__ import annotations

import logging

from core.domain.errors import WrongChain
from core.domain.mode import CHAIN_ALARM, CHAIN_IDENTITY
from core.ports import Controls

log = logging.getLogger(__name__)


class ChainIdentity:
    def __init__(self, controls: Controls, chain_id: int) -> None:
        self.controls = controls
        self.chain_id = chain_id
        self._recorded: str | None = None  # read once per process

    def check(self, chain_id: int, genesis: str) -> None:
        """A mismatch raises WrongChain (nothing is sent) and writes the `chain_alarm` note
        that `status` shows; nonces are never touched."""
        seen = f"{chain_id}:{genesis}"
        if chain_id != self.chain_id:
            problem = f"node chain id {chain_id} != COPYTRADE_CHAIN_ID {self.chain_id}"
        else:
            if self._recorded is None:
                self._recorded = self.controls.get_or_record(CHAIN_IDENTITY, seen)
            if self._recorded == seen:
                return
            problem = f"node is on {seen}, this database was recorded on {self._recorded}"
        log.critical("wrong chain, refusing to send: %s", problem)
        self.controls.note(CHAIN_ALARM, problem)
        raise WrongChain(problem)
