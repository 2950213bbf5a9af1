"""Node error strings from both families (geth, anvil) map to the same outcomes."""

from __future__ import annotations

import pytest

from core.adapters.chain import classify_send_error


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("already known", "known"),  # geth
        ("transaction already imported", "known"),  # anvil
        ("Known transaction: 0xabc", "known"),  # older clients
        ("nonce too low", "nonce_too_low"),  # geth
        ("nonce too low: next nonce 5, tx nonce 4", "nonce_too_low"),  # geth, newer
        ("Nonce too low", "nonce_too_low"),  # anvil
        ("replacement transaction underpriced", "underpriced"),  # geth
        ("transaction underpriced", "underpriced"),  # geth
        ("insufficient funds for gas * price + value", "insufficient_funds"),  # geth
        ("Insufficient funds for gas * price + value", "insufficient_funds"),  # anvil
        ("execution reverted", "error"),
        ("", "error"),
    ],
)
def test_send_errors_are_classified_the_same_for_geth_and_anvil(message: str, kind: str) -> None:
    assert classify_send_error(message) == kind
