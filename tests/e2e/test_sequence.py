"""Two signals for one follower: the sequence gate and the exposure lock."""

from __future__ import annotations

from core.domain.signals import parse_signal
from tests.support.flow import Flow

USD = 10**6


def test_second_signal_is_sized_only_after_the_first_is_sent(flow: Flow) -> None:
    s = flow.s
    leader = flow.leader()
    fid, address = flow.follower(leader)
    lid = s.registry.leader_id(leader)
    a = parse_signal(flow.payload(leader, "open", collateral_usd="10", leverage=1))
    b = parse_signal(flow.payload(leader, "increase", collateral_usd="10", leverage=1))
    _, pk_a = s.signals.insert_signal(a, lid, "test")
    _, pk_b = s.signals.insert_signal(b, lid, "test")
    # A is taken to `signed` (nonce assigned, not broadcast) in this process.
    s.pipeline.validate(pk_a)
    s.pipeline.size(pk_a)
    s.pipeline.build(pk_a)
    s.pipeline.validate(pk_b)
    flow.run_task("copytrade.size", pk_b)  # a worker tries to size B: the gate holds it
    assert flow.intents(b.signal_id)[fid]["state"] == "pending"
    s.intake.dispatcher.dispatch(pk_b, start="size")
    s.intake.dispatcher.dispatch(pk_a, start="send")
    flow.wait_done(a.signal_id)
    flow.wait_done(b.signal_id)
    ia, ib = flow.intents(a.signal_id)[fid], flow.intents(b.signal_id)[fid]
    assert (ia["state"], ib["state"]) == ("confirmed", "confirmed")
    assert (ia["nonce"], ib["nonce"]) == (0, 1)
    assert ib["sized_at"] >= ia["sent_at"]
    assert flow.position(address).size_usd_1e6 == 20 * USD


def test_two_concurrent_signals_a_limit_that_fits_one_lets_exactly_one_through(flow: Flow) -> None:
    leader = flow.leader()
    tight, tight_addr = flow.follower(leader, max_position_usd_1e6=15 * USD)
    roomy, roomy_addr = flow.follower(leader, max_position_usd_1e6=20 * USD)
    first = flow.payload(leader, "open", collateral_usd="10", leverage=1)
    second = flow.payload(leader, "increase", collateral_usd="10", leverage=1)
    assert flow.submit(first)["status"] == "accepted"
    assert flow.submit(second)["status"] == "accepted"
    flow.wait_done(first["signal_id"])
    flow.wait_done(second["signal_id"])
    one, two = flow.intents(first["signal_id"]), flow.intents(second["signal_id"])
    assert (one[tight]["state"], two[tight]["state"], two[tight]["reason"]) == (
        "confirmed",
        "rejected",
        "max_position",
    )
    assert (one[roomy]["state"], two[roomy]["state"]) == ("confirmed", "confirmed")
    assert two[roomy]["sized_at"] >= one[roomy]["sent_at"]
    assert flow.position(tight_addr).size_usd_1e6 == 10 * USD
    assert flow.position(roomy_addr).size_usd_1e6 == 20 * USD


def test_seed_boundary_100_usd_at_1000x_against_a_100k_limit(flow: Flow) -> None:
    """The seed's example on the real pipeline, `standard` profile: $100 x 1000x."""
    leader = flow.leader()
    at_limit = flow.follower(leader, max_leverage=1000, max_position_usd_1e6=100_000 * USD)
    under = flow.follower(leader, max_leverage=1000, max_position_usd_1e6=100_000 * USD - 1)
    lev_cap = flow.follower(leader, max_leverage=999, max_position_usd_1e6=10**12)
    p = flow.payload(leader, collateral_usd="100", leverage=1000, price_usd="100000")
    flow.submit(p)
    flow.wait_done(p["signal_id"])
    got = flow.intents(p["signal_id"])
    assert (got[at_limit[0]]["state"], got[at_limit[0]]["notional_usd_1e6"]) == (
        "confirmed",
        100_000 * USD,
    )
    assert flow.position(at_limit[1]).size_usd_1e6 == 100_000 * USD
    assert (got[under[0]]["state"], got[under[0]]["reason"]) == ("rejected", "max_position")
    assert (got[lev_cap[0]]["state"], got[lev_cap[0]]["reason"]) == ("rejected", "max_leverage")
