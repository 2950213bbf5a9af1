"""Secrets in the settings: no repr, str or JSON dump of the settings (or of the Services
that hold them) shows a password; the code that needs one still gets it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from config import flower
from config.settings import Settings, keystore_password, redact_url, settings_from
from core.bootstrap import Services

KEYSTORE = "ks-pass-7f3a"
FLOWER = "flower-pass-91bd"
DB_PASSWORD = "pg-pass-c0de"
REDIS_PASSWORD = "redis-pass-beef"
RPC_KEY = "rpc-key-5eed"
BOT_TOKEN = "123456:bot-token-abcd"
OPERATOR_HOOK = "hook-token-f00d"


def secret_settings(**extra: str) -> Settings:
    return settings_from(
        {
            "COPYTRADE_KEYSTORE_PASSWORD": KEYSTORE,
            "COPYTRADE_FLOWER_USER": "ops",
            "COPYTRADE_FLOWER_PASSWORD": FLOWER,
            "COPYTRADE_DATABASE_URL": f"postgresql+psycopg2://copytrade:{DB_PASSWORD}@db:5432/ct",
            "COPYTRADE_BROKER_URL": f"redis://:{REDIS_PASSWORD}@redis:6379/0",
            "COPYTRADE_MODE_REDIS_URL": f"redis://default:{REDIS_PASSWORD}@redis:6379/1",
            "COPYTRADE_RESULT_BACKEND_URL": f"redis://:{REDIS_PASSWORD}@redis:6379/2",
            "COPYTRADE_RPC_URL": f"https://eth-mainnet.g.alchemy.com/v2/{RPC_KEY}",
            "COPYTRADE_RPC_FALLBACK_URLS": f"https://mainnet.infura.io/v3/{RPC_KEY},http://n:8545",
            "COPYTRADE_TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "COPYTRADE_OPERATOR_NOTIFY_URL": f"discord://123/{OPERATOR_HOOK}",
            **extra,
        }
    )


SECRETS = (KEYSTORE, FLOWER, DB_PASSWORD, REDIS_PASSWORD, RPC_KEY, BOT_TOKEN, OPERATOR_HOOK)


@pytest.mark.parametrize(
    "show",
    [
        repr,
        str,
        lambda s: s.model_dump_json(),
        lambda s: repr(Services(s)),
        lambda s: str(Services(s)),
    ],
    ids=["repr", "str", "model_dump_json", "repr(Services)", "str(Services)"],
)
def test_no_rendering_of_the_settings_shows_a_password_or_an_rpc_key(
    show: Callable[[Settings], str],
) -> None:
    shown = show(secret_settings())
    for secret in SECRETS:
        assert secret not in shown
    # …and still says where things are.
    assert "db:5432" in shown
    assert "eth-mainnet.g.alchemy.com" in shown


def test_the_url_settings_keep_their_real_values_for_the_code_that_connects() -> None:
    s = secret_settings()
    assert DB_PASSWORD in s.database_url
    assert REDIS_PASSWORD in s.broker_url
    assert RPC_KEY in s.rpc_url


def test_the_keystore_reader_gets_the_password_from_the_setting() -> None:
    assert keystore_password(secret_settings()) == KEYSTORE


def test_the_keystore_reader_gets_the_password_from_the_file(tmp_path: Path) -> None:
    file = tmp_path / "keystore_password"
    file.write_text(f"{KEYSTORE}\n")
    s = settings_from({"COPYTRADE_KEYSTORE_PASSWORD_FILE": str(file)})
    assert keystore_password(s) == KEYSTORE


def test_the_keystore_reader_says_none_without_a_password() -> None:
    assert keystore_password(settings_from({})) is None


def test_flower_gets_the_real_password_as_basic_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWER_BASIC_AUTH", raising=False)
    flower.guard(["celery", "-A", "config.celery_app", "flower"], secret_settings())
    assert os.environ["FLOWER_BASIC_AUTH"] == f"ops:{FLOWER}"


def test_flower_refuses_a_comma_in_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWER_BASIC_AUTH", raising=False)
    s = secret_settings(COPYTRADE_FLOWER_PASSWORD="a,b")
    with pytest.raises(SystemExit, match="password"):
        flower.guard(["celery", "flower"], s)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        (
            "postgresql+psycopg2://postgres@127.0.0.1/ct",
            "postgresql+psycopg2://postgres@127.0.0.1/ct",
        ),
        ("postgresql://u@/ct?host=/tmp&password=pw", "postgresql://u@/ct?***"),
        ("https://u:pw@rpc.example/v2/key?x=1", "https://u:***@rpc.example/***"),
        ("wss://rpc.example/ws/key", "wss://rpc.example/***"),
        ("not a url with pw", "***"),
        ("http://[::1", "***"),
        ("", ""),
    ],
)
def test_a_url_is_shown_with_its_credentials_masked_and_its_place_kept(
    url: str, shown: str
) -> None:
    assert redact_url(url) == shown
