"""What a node's refusal of `eth_sendRawTransaction` says, across implementations — a hint
only: the chain decides (core/adapters/send_check.py looks our hash and nonce up first).

The needles come from the nodes' sources (tests/unit/test_chain_errors.py holds the table,
each message with where it was read): geth, Nethermind (old PascalCase result codes and
the newer geth-style phrases), Erigon (`RESULT_NAME: reason`), reth, Besu, Hardhat / EDR,
Ganache and anvil, and hosted providers' rate limits. Order matters: the first class whose
needle is in the (lower-cased) message wins.
"""

from __future__ import annotations

NEEDLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("known", ("already known", "already imported", "known transaction", "alreadyknown")),
    (
        "nonce_too_low",
        ("nonce too low", "nonce is too low", "oldnonce", "doesn't have the correct nonce"),
    ),
    (
        "replacement_underpriced",
        ("replacement transaction underpriced", "replacementnotallowed", "could not replace"),
    ),
    (
        "fee_cap_below_base_fee",
        (
            "less than block base fee",
            "below current base fee",
            "too low for the next block",
            "maxfeepergas too low",
        ),
    ),
    (
        "exceeds_block_gas_limit",
        (
            "exceeds block gas limit",
            "gaslimitexceeded",
            "gas limit reached",
            "gas limit is too high",
            "> env.block.gas_limit",
        ),
    ),
    (
        "intrinsic_gas_too_low",
        ("intrinsic gas too low", "intrinsicgas", "intrinsic gas exceeds", "gas but got"),
    ),
    (
        "insufficient_funds",
        ("insufficient funds", "insufficientfunds", "exceeds account balance", "enough funds"),
    ),
    (
        "underpriced",
        (
            "underpriced",
            "fee too low",
            "feetoolow",
            "below minimum",
            "below the minimum",
            "gas price below",
            "too low to compete",
        ),
    ),  # fmt: skip
    (
        "rate_limited",
        (
            "rate limit",
            "request rate",
            "limit exceeded",
            "too many requests",
            "compute units",
            "request count exceeded",
        ),
    ),  # fmt: skip
)
KINDS = ("ok", "unsent", "error", *(kind for kind, _ in NEEDLES))


def classify_send_error(message: str) -> str:
    """A refusal's class from its message: one of KINDS' refusals, or `error`."""
    text = message.lower()
    for kind, needles in NEEDLES:
        if any(n in text for n in needles):
            return kind
    return "error"
