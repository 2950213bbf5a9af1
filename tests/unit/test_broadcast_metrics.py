"""The same bytes sent again (the node already has them) count as a rebroadcast, not as
another order accepted (tests/e2e/test_metrics.py once counted 9 order broadcasts for 6
orders under load)."""

from __future__ import annotations

from core import metrics
from core.domain.chain import SendOutcome


def count(kind: str, outcome: str) -> float:
    value: float = metrics.m().broadcasts.labels(kind, outcome)._value.get()
    return value


def test_a_transaction_the_node_already_had_is_a_rebroadcast_not_another_order() -> None:
    before = {k: count(*k) for k in (("order", "accepted"), ("rebroadcast", "accepted"))}
    before["refused"] = count("order", "underpriced")
    metrics.broadcast_outcomes(
        "order",
        [
            SendOutcome("ok", "0x01", ""),
            SendOutcome("known", "0x02", "already known"),
            SendOutcome("underpriced", None, "transaction underpriced"),
        ],
    )
    assert count("order", "accepted") == before[("order", "accepted")] + 1
    assert count("rebroadcast", "accepted") == before[("rebroadcast", "accepted")] + 1
    assert count("order", "underpriced") == before["refused"] + 1
