"""While a signal waits behind the sequence gate, `status` and `intents list` say what it
waits behind and for how long (the figure the CopytradeQueueHeadOld alert reads)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from core.adapters.postgres.reads.queries import Queries
from core.bootstrap import Services
from core.domain.signals import parse_signal
from core.domain.types import Mode
from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.procs import copytrade_cmd
from tests.support.stacks import settings_with


@pytest.fixture
def own(stack: Any) -> Iterator[tuple[Flow, dict[str, str]]]:
    with fresh_database("ct_heads") as url:
        env = {**stack.env, "COPYTRADE_DATABASE_URL": url}
        s = Services(settings_with(env))
        s.mode.request(Mode.LIVE, "pytest", "queue heads")
        yield Flow(stack, services=s), env
        s.db.dispose()


def test_a_gated_signal_says_what_it_waits_behind(own: tuple[Flow, dict[str, str]]) -> None:
    flow, env = own
    s = flow.s
    leader = flow.leader()
    flow.follower(leader)
    lid = s.registry.leader_id(leader)
    assert lid is not None
    pks = []
    for _ in range(2):
        spec = parse_signal(flow.payload(leader, collateral_usd="10", leverage=1))
        pks.append((s.signals.insert_signal(spec, lid, "test")[1], spec.signal_id))
    (ahead, ahead_id), (behind, behind_id) = pks
    s.pipeline.validate(ahead)
    s.pipeline.size(ahead)
    assert s.pipeline.build(ahead) == 1  # signed, not sent: the gate holds the next one
    s.pipeline.validate(behind)
    assert s.pipeline.size(behind) == (0, 1)
    (head,) = Queries(s.db).queue_heads()
    assert (head["signal_id"], head["behind"]) == (behind_id, f"{ahead_id} (dispatched)")
    assert head["waiting_s"] >= 0
    out = subprocess.run(
        copytrade_cmd("intents", "list", "--state", "pending", "--json"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert row["waiting"].endswith(f"behind {ahead_id} (dispatched)")
    status = subprocess.run(
        copytrade_cmd("status"), env=env, capture_output=True, text=True, timeout=60
    )
    assert f"waiting signal {behind_id} of leader" in " ".join(status.stdout.split())
