"""One follower's sizing error is that follower's own outcome, never the batch's: a signal
for an asset the venue does not price (no price in the signal) rejects each follower with
`no_price` (a fixed-size one cannot size, the others would need an acceptable price of 0)
and a follower whose stored policy is corrupt ends failed(internal: …) — in both signals,
while the others of the priced one trade. The bad signal ends within seconds and the
leader's next signal, gated behind it, goes out at once."""

from __future__ import annotations

import time

from sqlalchemy import text

from tests.support.flow import Flow


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
