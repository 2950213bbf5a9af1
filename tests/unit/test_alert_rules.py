"""Every alert rule has a `promtool test rules` case that fires and one that does not.

The cases are a table here; the promtool test file is written from it, with the expected
annotations read from the rules file (so the text is not kept twice). promtool comes from
Debian's prometheus package, unpacked by `make install` into .tools/.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import ROOT

RULES = ROOT / "config" / "prometheus" / "alerts.yml"
HB = {"job": "copytrade-heartbeat", "instance": "hb:9809"}
WK = {"job": "copytrade-workers", "instance": "w1:9808"}


@dataclass(frozen=True)
class Case:
    alert: str
    fire: dict[str, str]  # series -> values (promtool's expanding notation, 1 m apart)
    quiet: dict[str, str]  # the same kind of input that must not fire
    at: str = "20m"  # evaluation time
    labels: tuple[tuple[str, str], ...] = tuple(HB.items())  # labels the alert keeps


def series(name: str, **labels: str) -> str:
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def ended(state: str, reason: str) -> str:
    return series("copytrade_intents_ended_total", state=state, reason=reason, **WK)


CASES = [
    Case(
        "CopytradeForcedDry",
        {series("copytrade_mode_forced_dry", **HB): "1x30"},
        {series("copytrade_mode_forced_dry", **HB): "0x30"},  # DRY requested: not forced
    ),
    Case(
        "CopytradeEmergencyStop",
        {series("copytrade_emergency_stop", **HB): "0x10 1x20"},
        {series("copytrade_emergency_stop", **HB): "1x10 0x20"},  # stopped, then resumed
    ),
    Case(
        "CopytradeHeartbeatStale",
        {series("copytrade_heartbeat_age_seconds", **HB): "1x10 60+60x20"},
        {series("copytrade_heartbeat_age_seconds", **HB): "1x30"},
    ),
    Case(
        "CopytradeExporterDown",
        {series("up", **WK): "1x10 0x20"},
        {series("up", **WK): "1x30"},
        labels=tuple(WK.items()),
    ),
    Case(
        "CopytradeStateUnreadable",
        {series("copytrade_state_read_ok", part="intents", **HB): "1x10 0x20"},
        {series("copytrade_state_read_ok", part="intents", **HB): "1x10 0 1x19"},  # one blip
        labels=(*HB.items(), ("part", "intents")),
    ),
    Case(
        "CopytradeNonceUsedOutside",
        {series("copytrade_nonces_used_outside_total", **HB): "2x10 3x20"},
        {series("copytrade_nonces_used_outside_total", **HB): "2x30"},  # an old one only
        at="15m",
    ),
    Case(
        "CopytradeStuckIntents",
        {series("copytrade_stuck_intents", **HB): "0x5 2x25"},
        {series("copytrade_stuck_intents", **HB): "0x5 2x5 0x20"},  # cleared by bumping
    ),
    Case(
        "CopytradeHeldAtFeeCeiling",
        {series("copytrade_intents", state="held", **HB): "1x30"},
        {
            series("copytrade_intents", state="held", **HB): "0x30",
            series("copytrade_intents", state="sent", **HB): "5x30",
        },
        labels=(*HB.items(), ("state", "held")),
    ),
    Case(
        "CopytradeSignedPastMaxAge",
        {series("copytrade_signed_past_max_age", **HB): "1x30"},
        {series("copytrade_signed_past_max_age", **HB): "0x30"},
    ),
    Case(
        "CopytradeFailureRateHigh",
        {
            ended("confirmed", ""): "0+1000x90",
            ended("reverted", "reverted"): (
                "0+10x90"  # 1 %
            ),
        },
        {
            ended("confirmed", ""): "0+1000x90",
            ended("reverted", "reverted"): (
                "0+1x90"  # 0.1 %
            ),
            ended("rejected", "paused"): (
                "0+500x90"  # rejections are not failures
            ),
        },
        at="70m",
        labels=(),
    ),
    Case(
        "CopytradeQueueBacklogGrowing",
        {series("copytrade_queue_length", queue="execution", **HB): "0+20x40"},
        {series("copytrade_queue_length", queue="execution", **HB): "500x40"},  # big, flat
        at="30m",
        labels=(*HB.items(), ("queue", "execution")),
    ),
    Case(
        "CopytradeTaskFailures",
        {series("copytrade_task_failures_total", task="copytrade.send", **WK): "0x10 1x20"},
        {series("copytrade_task_failures_total", task="copytrade.send", **WK): "0x30"},
        at="15m",
        labels=(("task", "copytrade.send"),),
    ),
    Case(
        "CopytradeQueueHeadOld",
        {series("copytrade_queue_head_age_seconds", **HB): "0+60x30"},  # a head that waits on
        {series("copytrade_queue_head_age_seconds", **HB): "0 5 0 30 0x26"},  # heads that move
    ),
    Case(
        "CopytradeLowBalance",
        {series("copytrade_low_balance_signers", **HB): "2x30"},
        {series("copytrade_low_balance_signers", **HB): "0x30"},
    ),
    Case(
        "CopytradeSubaccountLow",
        {series("copytrade_subaccounts_low", **HB): "1x30"},
        {series("copytrade_subaccounts_low", **HB): "0x30"},
    ),
    Case(
        "CopytradeSubaccountRefused",
        {ended("rejected", "subaccount_exhausted"): "0x10 1x20"},
        {
            ended("rejected", "subaccount_exhausted"): "1x30",  # an old one only
            ended("rejected", "max_position"): "0+1x30",  # other rejections are policy
        },
        at="15m",
        labels=(),
    ),
]


def rules() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return {r["alert"]: r for g in doc["groups"] for r in g["rules"]}


def promtool() -> str:
    found = ROOT / ".tools" / "bin" / "promtool"
    if found.exists():
        return str(found)
    on_path = shutil.which("promtool")
    assert on_path, "promtool missing: run `make install` (Debian's prometheus package)"
    return on_path


def promtool_tests() -> dict[str, Any]:
    by_name = rules()
    tests = []
    for c in CASES:
        rule = by_name[c.alert]
        expected = {
            "exp_labels": {**dict(c.labels), **rule["labels"], "alertname": c.alert},
            "exp_annotations": rule["annotations"],
        }
        for name, inputs, exp in (("fires", c.fire, [expected]), ("quiet", c.quiet, [])):
            tests.append(
                {
                    "name": f"{c.alert} {name}",
                    "interval": "1m",
                    "input_series": [{"series": s, "values": v} for s, v in inputs.items()],
                    "alert_rule_test": [
                        {"eval_time": c.at, "alertname": c.alert, "exp_alerts": exp}
                    ],
                }
            )
    return {"rule_files": [str(RULES)], "evaluation_interval": "1m", "tests": tests}


def test_every_alert_has_a_case_and_a_runbook_section() -> None:
    runbook = (ROOT / "docs" / "runbook.md").read_text().lower()
    names = set(rules())
    assert names == {c.alert for c in CASES}
    for name, rule in rules().items():
        assert rule["annotations"]["runbook_url"] == f"docs/runbook.md#{name.lower()}"
        assert f"### {name.lower()}\n" in runbook, f"docs/runbook.md has no section {name}"


def test_rules_are_valid() -> None:
    out = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(rules())} rules found" in out.stdout


def test_the_prometheus_config_loads_the_rules() -> None:
    cfg = RULES.parent / "prometheus.yml"
    out = subprocess.run(
        [promtool(), "check", "config", cfg.name],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cfg.parent,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(rules())} rules found" in out.stdout


def test_each_alert_fires_on_its_case_and_not_on_the_quiet_one(tmp_path: Path) -> None:
    f = tmp_path / "alerts_test.yml"
    f.write_text(yaml.safe_dump(promtool_tests(), sort_keys=False))
    out = subprocess.run(
        [promtool(), "test", "rules", str(f)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.alert)
def test_a_case_that_should_fire_is_caught_when_it_does_not(case: Case, tmp_path: Path) -> None:
    """The harness itself can fail: the quiet input run against an expected alert fails."""
    doc = promtool_tests()
    fires = next(t for t in doc["tests"] if t["name"] == f"{case.alert} fires")
    quiet = next(t for t in doc["tests"] if t["name"] == f"{case.alert} quiet")
    fires["input_series"] = quiet["input_series"]
    doc["tests"] = [fires]
    f = tmp_path / "t.yml"
    f.write_text(json.dumps(doc))
    out = subprocess.run(
        [promtool(), "test", "rules", str(f)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode != 0, out.stdout
