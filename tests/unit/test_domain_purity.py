"""core/domain imports no infrastructure (checked through sys.modules in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = (
    "sqlalchemy",
    "redis",
    "web3",
    "celery",
    "kombu",
    "psycopg2",
    "requests",
    "eth_account",
    "boto3",
)


def test_importing_the_domain_loads_no_infrastructure_module() -> None:
    modules = sorted(p.stem for p in (ROOT / "core" / "domain").glob("*.py"))
    code = (
        "import json, sys\n"
        + "".join(f"import core.domain.{m}\n" for m in modules)
        + "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(out.stdout)
    bad = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert "core.domain.risk" in loaded
    assert bad == []
