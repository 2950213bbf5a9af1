"""Migration 0012 on a database holding followers: each becomes a following of an account of
its own (the account's id is the follower's, its wallet the follower's — a subaccount's
wallet for a subaccount follower), with no account limit; an account added afterwards gets
the next id. Nothing else about the followers changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text

from core.adapters.postgres.migrate import upgrade
from tests.support.databases import fresh_database

WALLET = "0x" + "ab" * 20
KEY = "0x" + "cd" * 20


def test_each_follower_becomes_an_account_of_its_own_with_no_limit(stack: Any) -> None:
    with fresh_database("ct_acct_mig", migrate=False) as url:
        upgrade(url, "0011")
        engine = create_engine(url)
        try:
            with engine.begin() as c:
                c.execute(text("INSERT INTO leaders (id, address) VALUES (1, :a)"), {"a": KEY})
                for fid, (address, sub) in enumerate([(WALLET, None), (WALLET, None),
                                                      (KEY, WALLET)], start=1):  # fmt: skip
                    c.execute(
                        text(
                            "INSERT INTO followers (id, tg_user_id, leader_id, signer_ref, "
                            "address, subaccount_of) VALUES (:i, :t, 1, 'env:K', :a, :s)"
                        ),
                        {"i": fid, "t": 100 + fid, "a": address, "s": sub},
                    )
            upgrade(url)
            with engine.begin() as c:
                rows = c.execute(
                    text(
                        "SELECT f.id, f.account_id, a.tg_user_id, a.wallet, a.max_position_usd_1e6,"
                        " a.max_total_usd_1e6, a.assets, a.opposite_sides FROM followers f "
                        "JOIN accounts a ON a.id = f.account_id ORDER BY f.id"
                    )
                ).all()
                new = c.execute(
                    text("INSERT INTO accounts (tg_user_id, wallet) VALUES (9, :w) RETURNING id"),
                    {"w": WALLET},
                ).scalar_one()
        finally:
            engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, 1, 101, WALLET, None, None, None, "hedge"),
        (2, 2, 102, WALLET, None, None, None, "hedge"),
        (3, 3, 103, WALLET, None, None, None, "hedge"),
    ]
    assert new == 4
