"""One follower's sizing error is that follower's own outcome, never the batch's: a signal
for an asset the venue does not price (no price in the signal) rejects each follower with
`no_price` (a fixed-size one cannot size, the others would need an acceptable price of 0)
and a follower whose stored policy is corrupt ends failed(internal: …) — in both signals,
while the others of the priced one trade. The bad signal ends within seconds and the
leader's next signal, gated behind it, goes out at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.databases import fresh_database
from tests.support.flow import Flow
from tests.support.stacks import live_worker_set


@pytest.fixture
def flow(stack: Any) -> Iterator[Flow]:
    """Workers on a database of their own: the corrupt rows these tests write must not
    reach other tests' listings."""
    with fresh_database("ct_badf") as url, live_worker_set(stack, "badf", 2, url) as ws:
        yield Flow(stack, ws.workers, services=ws.services)


def test_unpriced_asset_and_a_corrupt_policy_stay_per_follower_and_release_the_queue(
    flow: Flow,
) -> None:
    leader = flow.leader()
    fixed, _ = flow.follower(leader, sizing="fixed-size:0.0001", assets="BTC,DOGE")
    ratio, ratio_addr = flow.follower(leader, assets="BTC,DOGE")
    broken, _ = flow.follower(leader, assets="BTC,DOGE")
    with flow.s.db.tx() as conn:  # bad data in one follower's row (NaN fits a numeric)
        conn.execute(
            text(
                "UPDATE policies SET sizing_kind = 'fixed-notional', sizing_value = 'NaN' "
                "WHERE follower_id = :f"
            ),
            {"f": broken},
        )
    doge = flow.payload(leader, asset="DOGE", collateral_usd="10", leverage=1, price_usd=None)
    btc = flow.payload(leader, collateral_usd="10", leverage=1)
    t0 = time.monotonic()
    flow.submit(doge)
    flow.submit(btc)  # gated behind the DOGE signal
    flow.wait_done(doge["signal_id"], timeout=15)
    got = flow.intents(doge["signal_id"])
    assert (got[fixed]["state"], got[fixed]["reason"]) == ("rejected", "no_price")
    assert (got[ratio]["state"], got[ratio]["reason"]) == ("rejected", "no_price")
    assert (got[broken]["state"], got[broken]["reason"]) == ("failed", "internal: ValueError")
    flow.wait_done(btc["signal_id"], timeout=15)
    assert time.monotonic() - t0 < 15  # not the reconciler's 30 s rounds
    got = flow.intents(btc["signal_id"])
    assert got[fixed]["state"] == got[ratio]["state"] == "confirmed"
    assert got[broken]["state"] == "failed"
    assert flow.position(ratio_addr).size_usd_1e6 == 10 * 10**6


def test_a_signal_whose_step_keeps_failing_gives_up_in_seconds_and_releases_the_leader(
    flow: Flow,
) -> None:
    """A permanent error (here a corrupt signal row that no step can read) is retried a
    couple of times, then the signal's intents end failed(internal: …) and the leader's
    next signal goes out — not after the reconciler's rounds, minutes later."""
    from core.domain.signals import parse_signal

    s = flow.s
    leader = flow.leader()
    _, address = flow.follower(leader)
    bad = parse_signal(flow.payload(leader, collateral_usd="10", leverage=1))
    lid = s.registry.leader_id(leader)
    assert lid is not None
    _, pk = s.signals.insert_signal(bad, lid, "test")
    s.pipeline.validate(pk)  # its intents exist; then its row is damaged
    with s.db.tx() as conn:
        conn.execute(text("UPDATE signals SET action = 'flip' WHERE id = :pk"), {"pk": pk})
    s.intake.dispatcher.dispatch(pk, start="size")
    good = flow.payload(leader, collateral_usd="10", leverage=1)
    t0 = time.monotonic()
    flow.submit(good)  # gated behind the broken one
    flow.wait_done(good["signal_id"], timeout=30)
    assert time.monotonic() - t0 < 20
    (failed,) = flow.q.intents(signal_id=bad.signal_id)
    assert (failed["state"], failed["reason"]) == ("failed", "internal: ValueError")
    (traded,) = flow.q.intents(signal_id=good["signal_id"])
    assert traded["state"] == "confirmed"
    assert flow.position(address).size_usd_1e6 == 10 * 10**6
