"""The chain drills: a stuck transaction replaced by fee bump (stuck-tx), and one signal
submitted many times at once landing one order per follower (duplicate-signal)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

from core.adapters.postgres.reads.queries import Queries
from core.domain.fees import BUMP_DEN, BUMP_NUM
from core.domain.sizing import usd_to_e6
from core.drills.base import Ctx, DrillFailed, Report
from core.drills.mode import _verified
from core.services.verify import verify


def _payload(ctx: Ctx, collateral_usd: str = "2") -> dict[str, Any]:
    assert ctx.stack is not None
    return {
        "schema": 1,
        "signal_id": f"drill-{uuid.uuid4().hex[:12]}",
        "leader": ctx.stack.leader,
        "action": "open",
        "asset": "ETH",
        "side": "long",
        "collateral_usd_1e6": usd_to_e6(collateral_usd),
        "leverage_x": 1,
        "price_usd_1e6": usd_to_e6("3000"),
    }


def orders_on_chain(ctx: Ctx, keys: list[str]) -> Counter[str]:
    """Orders placed on the venue per idempotency key among `keys`, read through the venue
    port (the simple router's Order event, GMX's OrderCreated carrying the key)."""
    s, wanted = ctx.s, {k.lower() for k in keys}
    placed = (
        s.venue.order_placed(lg)
        for lg in s.chain.logs([s.venue.orders_filter()], 0, s.chain.block_number())
    )
    return Counter(p[1].lower() for p in placed if p is not None and p[1].lower() in wanted)


def stuck_tx(ctx: Ctx) -> Report:
    r = Report("stuck-tx", "local" if ctx.local else "observe")
    q = ctx.q
    start = q.now()
    if ctx.stack is not None:
        ctx.stack.pause_mining()  # every transaction now waits in the pool: stuck
        try:
            p = _payload(ctx)
            sid = p["signal_id"]
            if ctx.s.intake.submit(p, source="drill").status != "accepted":
                raise DrillFailed("the drill's signal was not accepted")
            intent_ids = ctx.wait(
                lambda: (
                    [i["id"] for i in q.intents_of_signals([sid])]
                    if q.replacements_since(start)
                    else None
                ),
                "a replacement of the stuck transaction",
            )
        finally:
            ctx.stack.resume_mining()
    else:
        ctx.say("watching for the stuck scan to replace a transaction (fees spiking, say)")
        intent_ids = ctx.wait(lambda: q.replacements_since(start), "a replacement")
    replaced = q.replacements_since(start)
    target = next(i for i in intent_ids if i in replaced) if ctx.local else replaced[0]
    ctx.wait(
        lambda: any(a["outcome"] == "mined" for a in Queries(ctx.s.db).intent(target)["attempts"]),
        "the replaced intent to be mined",
    )
    attempts = Queries(ctx.s.db).intent(target)["attempts"]
    first, last = attempts[0], attempts[-1]
    mined = next(a for a in attempts if a["outcome"] == "mined")
    r.figures["intent"] = target
    r.figures["attempts"] = len(attempts)
    r.figures["nonce"] = first["nonce"]
    r.figures["first_fees_wei"] = [first["max_fee_per_gas"], first["max_priority_fee_per_gas"]]
    r.figures["replacement_fees_wei"] = [last["max_fee_per_gas"], last["max_priority_fee_per_gas"]]
    r.figures["fee_bump"] = str(
        (Decimal(last["max_fee_per_gas"]) / Decimal(first["max_fee_per_gas"])).quantize(
            Decimal("0.001")
        )
    )
    r.figures["mined_hash"] = mined["tx_hash"]
    r.check("every attempt at the same nonce", len({a["nonce"] for a in attempts}) == 1)
    r.check(
        "each replacement's fees >= ceil(1.125 x) the previous attempt's",
        all(
            b[f] * BUMP_DEN >= a[f] * BUMP_NUM
            for a, b in zip(attempts, attempts[1:], strict=False)
            for f in ("max_fee_per_gas", "max_priority_fee_per_gas")
        ),
    )
    r.check("a replacement (not the stuck first attempt) was mined", mined["attempt_no"] > 1)
    if ctx.local:
        r.check(
            "the mined hash is the one the node has", bool(ctx.s.chain.receipts([mined["tx_hash"]]))
        )
        _verified(ctx, r)
    return r


def duplicate_signal(ctx: Ctx, copies: int = 8) -> Report:
    r = Report("duplicate-signal", "local" if ctx.local else "observe")
    if ctx.stack is None:
        s = ctx.s
        report = verify(s.audit_queries, s.chain, s.venue, 10**9)
        dupes = [b for b in report.breaches if "orders on chain" in b or "more than one" in b]
        r.figures["orders_on_chain"] = report.figures.get("orders_on_chain")
        r.figures["duplicate_breaches"] = dupes
        r.check("no idempotency key with more than one order on chain", not dupes)
        return r
    p = _payload(ctx, "1")
    answers: list[str] = []
    gate = threading.Barrier(copies)

    def submit() -> None:
        gate.wait()
        answers.append(ctx.s.intake.submit(dict(p), source="drill").status)

    threads = [threading.Thread(target=submit) for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    r.figures["answers"] = dict(Counter(answers))
    q = ctx.q
    ctx.wait(
        lambda: q.signal_states([p["signal_id"]]).get(p["signal_id"]) in ("done", "rejected"),
        "the signal to end",
    )
    rows = q.intents_of_signals([p["signal_id"]])
    keys = [i["idempotency_key"] for i in rows]
    orders = orders_on_chain(ctx, keys)
    r.figures["intents"] = len(rows)
    r.figures["orders_on_chain"] = sum(orders.values())
    r.check(f"{copies} concurrent submits: exactly one accepted", Counter(answers)["accepted"] == 1)
    r.check("one intent per follower", len(rows) == len(ctx.stack.followers))
    r.check("exactly one order on chain per follower", sorted(orders.values()) == [1] * len(rows))
    _verified(ctx, r)
    return r
