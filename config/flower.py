"""Flower, the Celery dashboard: `celery -A config.celery_app flower --port=5555`.

Loading the app for the `flower` command passes the credentials from settings
(COPYTRADE_FLOWER_USER / COPYTRADE_FLOWER_PASSWORD) to Flower as basic auth, through this
process's environment only (never the command line, which `ps` shows). Without them Flower
refuses to start unless COPYTRADE_DEPLOYMENT=dev. It sees tasks because workers send task
events (`worker_send_task_events`); our internal tasks carry ids only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from config.settings import Settings, get_settings

REFUSAL = (
    "copytrade: Flower refuses to start without COPYTRADE_FLOWER_USER and "
    "COPYTRADE_FLOWER_PASSWORD (set COPYTRADE_DEPLOYMENT=dev to run it open on a laptop)"
)


def is_flower(argv: Sequence[str]) -> bool:
    """True for `celery … flower …` (also `python -m celery … flower`)."""
    if len(argv) < 2 or Path(argv[0]).name not in ("celery", "__main__.py"):
        return False
    return "flower" in argv[1:]


def guard(argv: Sequence[str], settings: Settings | None = None) -> None:
    """Called when config.celery_app loads: for the flower command, basic auth or exit."""
    if not is_flower(argv):
        return
    s = get_settings() if settings is None else settings
    password = s.flower_password.get_secret_value()
    if s.flower_user and password:
        if ":" in s.flower_user or "," in password:
            raise SystemExit("copytrade: the Flower user may not contain ':', the password ','")
        os.environ["FLOWER_BASIC_AUTH"] = f"{s.flower_user}:{password}"
        return
    if s.deployment != "dev":
        raise SystemExit(REFUSAL)
