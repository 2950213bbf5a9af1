"""Hypothesis strategies for producer payloads: valid ones, ones broken in exactly one
known way (with the reason the validator must give), and arbitrary JSON."""

from __future__ import annotations

import time
from typing import Any

from eth_account import Account
from hypothesis import strategies as st

_NOW = int(time.time())  # fixed per run: hypothesis needs the same bounds on every draw

# Fixed addresses (generating keys per example is slow): checksummed and lower-case forms.
ADDRESSES = [Account.create().address for _ in range(4)]
ACTIONS = ["open", "increase", "decrease", "close"]
REQUIRED = ["signal_id", "leader", "action", "asset", "side", "collateral_usd_1e6", "leverage_x"]
MAX_USD_1E6 = 10**18

signal_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9:_.\-]{0,60}\Z")
assets = st.from_regex(r"\A[A-Z][A-Z0-9]{0,7}\Z")


def valid(leaders: list[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    pool = leaders or ADDRESSES

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        action = draw(st.sampled_from(ACTIONS))
        low = 0 if action == "close" else 1
        leader = draw(st.sampled_from(pool))
        p: dict[str, Any] = {
            "signal_id": draw(signal_ids),
            "leader": draw(st.sampled_from([leader, leader.lower()])),
            "action": action,
            "asset": draw(assets),
            "side": draw(st.sampled_from(["long", "short"])),
            "collateral_usd_1e6": draw(st.integers(low, MAX_USD_1E6)),
            "leverage_x": draw(st.integers(1, 10_000)),
        }
        if draw(st.booleans()):
            p["schema"] = 1
        if draw(st.booleans()):
            p["price_usd_1e6"] = draw(st.integers(1, MAX_USD_1E6))
        if draw(st.booleans()):
            # Up to now: a later one is refused at intake (future_issued_at), not by parsing.
            p["issued_at"] = draw(st.integers(0, _NOW))
        return p

    return build()


# Each breaks a valid payload in one way; the value is the reason the validator must give.
def _drop(p: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in p.items() if k != field}


junk_values = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["NaN", "inf", "-inf", "1e400", "", "\u202e\u0000", "１２３"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def broken(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    p = draw(valid())
    how = draw(
        st.sampled_from(
            [
                "missing",
                "extra",
                "schema",
                "bad_id",
                "bad_asset",
                "bad_action",
                "bad_side",
                "zero_or_negative",
                "huge",
                "leverage_zero",
                "junk_number",
                "bad_address",
                "bad_checksum",
                "not_a_dict",
            ]
        )
    )
    if how == "missing":
        return _drop(p, draw(st.sampled_from(REQUIRED))), "missing_field"
    if how == "extra":
        key = draw(
            st.text(min_size=1, max_size=12).filter(
                lambda k: k not in p and k not in {"schema", "price_usd_1e6", "issued_at"}
            )
        )
        return {**p, key: draw(junk_values)}, "unknown_field"
    if how == "schema":
        return {
            **p,
            "schema": draw(
                st.one_of(st.integers(2, 99), st.just(0), st.just(True), st.just(1.0), st.just("1"))
            ),
        }, "bad_schema"
    if how == "bad_id":
        bad = draw(
            st.one_of(
                st.just(""),
                st.just("a\n"),
                st.just("x" * 200),
                st.just("a b"),
                st.just("-lead"),
                st.integers(),
                st.just("ü"),
            )
        )
        return {**p, "signal_id": bad}, "bad_signal_id"
    if how == "bad_asset":
        bad = draw(
            st.one_of(
                st.just("btc"),
                st.just("BTC\n"),
                st.just(""),
                st.just("B" * 17),
                st.integers(),
                st.just("BT C"),
            )
        )
        return {**p, "asset": bad}, "bad_asset"
    if how in ("bad_action", "bad_side"):
        field = how.removeprefix("bad_")
        bad = draw(
            st.one_of(
                st.text(max_size=8).filter(lambda t: t not in ACTIONS + ["long", "short"]),
                st.integers(),
                st.none(),
            )
        )
        return {**p, field: bad}, "bad_field"
    if how == "zero_or_negative":
        if p["action"] == "close":
            p = {**p, "action": "open"}
        return {**p, "collateral_usd_1e6": draw(st.integers(-(10**30), 0))}, "out_of_range"
    if how == "huge":
        field = draw(st.sampled_from(["collateral_usd_1e6", "price_usd_1e6", "leverage_x"]))
        return {**p, field: draw(st.integers(MAX_USD_1E6 + 1, 10**400))}, "out_of_range"
    if how == "leverage_zero":
        return {**p, "leverage_x": 0}, "out_of_range"
    if how == "junk_number":
        field = draw(st.sampled_from(["collateral_usd_1e6", "leverage_x", "price_usd_1e6"]))
        # null for an optional field means "absent" (docs/producers.md): not junk there.
        bad = draw(
            junk_values.filter(
                lambda v: (
                    not (isinstance(v, int) and not isinstance(v, bool))
                    and not (v is None and field == "price_usd_1e6")
                )
            )
        )
        return {**p, field: bad}, "bad_field"
    if how == "bad_address":
        bad = draw(
            st.one_of(
                st.just("0x1234"),
                st.just(p["leader"][2:]),
                st.just("0x" + "g" * 40),
                st.integers(),
                st.just(""),
            )
        )
        return {**p, "leader": bad}, "bad_address"
    if how == "bad_checksum":
        a = p["leader"]
        flipped = a[:2] + "".join(c.swapcase() if c.isalpha() else c for c in a[2:])
        if flipped == flipped.lower() or flipped == a:  # no letters to flip: keep it simple
            return {**p, "leader": "0x1234"}, "bad_address"
        return {**p, "leader": flipped}, "bad_checksum"
    return draw(st.sampled_from([[], "x", 1, None])), "bad_payload"  # type: ignore[return-value]


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
