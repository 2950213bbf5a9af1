"""A fresh local GMX deployment and database for CLI tests (no workers): the settings a
`copytrade` command run beside it needs, the services, and the command runner."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from core.adapters.chain import Chain
from core.adapters.gmx import local
from core.adapters.signers.local import LocalSigner
from core.domain.types import USD
from tests.support.chain import ANVIL_KEY0
from tests.support.flow import Flow, own_flow
from tests.support.procs import copytrade_cmd


@dataclass
class Rig:
    env: dict[str, str]
    flow: Flow
    gmx: local.LocalGmx


@contextmanager
def gmx_rig(stack: Any, prefix: str) -> Iterator[Rig]:
    chain = Chain(stack.rpc_url)
    gmx = local.deploy_local_gmx(chain, LocalSigner.from_key(ANVIL_KEY0), 31337)
    env = {
        **local.settings_for(gmx),
        "COPYTRADE_VENUE_ADDRESS": "",
        "COPYTRADE_GMX_PRICES": json.dumps({"ETH": 3_000 * USD, "BTC": 100_000 * USD}),
    }
    with own_flow(stack, prefix, **env) as flow:
        yield Rig(flow.env, flow, gmx)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`copytrade ARGS` beside the rig, its output captured."""
    return subprocess.run(
        copytrade_cmd(*args), env=env, capture_output=True, text=True, timeout=120
    )
