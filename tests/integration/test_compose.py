"""docker-compose.yml: valid against the compose-spec schema (check-jsonschema's bundled copy,
offline), and each service's command run here to show it is a real entry point. There is
no Docker engine on this machine: `docker compose up` itself is not run.

Commands run as written, with the container paths of their bind mounts mapped to the
repository, named volumes to a temporary directory, service host names to this test's
services, and a free port appended where the service listens on a fixed one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from config.celery_app import QUEUES
from config.settings import ROOT
from tests.support import procs
from tests.support.databases import fresh_database
from tests.support.procs import http_get

COMPOSE = ROOT / "docker-compose.yml"
BIN = Path(sys.executable).parent
PROMETHEUS = ROOT / ".tools" / "pkg" / "usr" / "bin" / "prometheus"
APP = ("migrate", "worker", "watcher", "heartbeat", "beat", "flower")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return doc


def local(argv: list[str], volumes: list[str], tmp: Path) -> list[str]:
    """The container's argv with executables from this venv and mounts mapped here."""
    mapping = {"/tmp": str(tmp)}
    for v in volumes:
        host, container = v.split(":")[:2]
        mapping[container] = str(ROOT / host) if host.startswith("./") else str(tmp / host)

    def here(value: str) -> str:
        for c, h in sorted(mapping.items(), key=lambda kv: -len(kv[0])):
            if value == c or value.startswith(c + "/"):
                return h + value[len(c) :]
        return value

    out = []
    for a in argv:
        key, eq, value = a.partition("=")
        out.append(f"{key}={here(value)}" if a.startswith("--") and eq else here(a))
    exe = BIN / out[0]
    return [str(exe) if exe.exists() else out[0], *out[1:]]


def test_the_file_is_valid_against_the_compose_spec() -> None:
    out = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ok -- validation done" in out.stdout


def test_the_deployment_has_every_part(compose: dict[str, Any]) -> None:
    s = compose["services"]
    assert set(s) == {"postgres", "redis", "anvil", *APP, "prometheus", "grafana"}
    assert s["anvil"]["profiles"] == ["dev"]
    cmd = s["redis"]["command"]
    assert cmd[cmd.index("--appendonly") + 1] == "yes"
    assert cmd[cmd.index("--maxmemory-policy") + 1] == "noeviction"
    assert s["migrate"]["restart"] == "no"
    for name in ("worker", "watcher", "heartbeat", "beat", "flower"):
        assert s[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    queues = {
        q
        for n in ("worker", "watcher")
        for q in s[n]["command"][s[n]["command"].index("-Q") + 1].split(",")
    }
    assert queues == set(QUEUES)  # every queue has a consumer
    assert "-E" in s["worker"]["command"]  # task events for Flower
    assert "COPYTRADE_FLOWER_PASSWORD" in s["flower"]["environment"]
    for name in ("prometheus", "grafana"):
        for v in s[name]["volumes"]:
            host = v.split(":")[0]
            if host.startswith("./"):
                assert (ROOT / host).is_dir(), v
    provider = yaml.safe_load(
        (ROOT / "config/grafana/provisioning/dashboards/copytrade.yml").read_text()
    )
    mounted = dict(v.split(":")[1::-1] for v in s["grafana"]["volumes"][:2])
    dashboards = Path(mounted[provider["providers"][0]["options"]["path"]].removesuffix(":ro"))
    assert json.loads((ROOT / dashboards / "copytrade.json").read_text())["uid"] == "copytrade"


def test_redis_runs_with_aof_and_noeviction(compose: dict[str, Any], tmp_path: Path) -> None:
    port = procs.free_port()
    argv = compose["services"]["redis"]["command"]
    exe = shutil.which(argv[0]) or argv[0]
    args = [exe, *argv[1:], "--port", str(port), "--dir", str(tmp_path)]
    p = procs.Proc(args, tmp_path / "redis.log")
    try:
        procs.wait_until(lambda: procs.port_open(port), 20, "redis")
        r = redis.Redis(port=port)
        assert r.config_get("appendonly")["appendonly"] == "yes"
        assert r.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
    finally:
        p.stop()


def test_anvil_runs_as_configured(compose: dict[str, Any], tmp_path: Path) -> None:
    port = procs.free_port()
    args = [a for a in compose["services"]["anvil"]["command"] if a != "0.0.0.0"]
    args = [a if a != "--host" else "--host=127.0.0.1" for a in args]
    p = procs.Proc([str(procs.ANVIL), *args, "--port", str(port)], tmp_path / "anvil.log")
    try:
        procs.wait_until(lambda: procs.port_open(port), 20, "anvil")
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}", body.encode(), {"Content-Type": "application/json"}
        )
        answer = json.loads(urllib.request.urlopen(req, timeout=10).read())
        assert int(answer["result"], 16) == 31337
    finally:
        p.stop()


def test_prometheus_loads_the_config_and_every_rule(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    assert PROMETHEUS.exists(), "run `make install` (Debian's prometheus package)"
    svc = compose["services"]["prometheus"]
    port = procs.free_port()
    argv = local(["prometheus", *svc["command"]], svc["volumes"], tmp_path)
    argv[0] = str(PROMETHEUS)
    argv.append(f"--web.listen-address=127.0.0.1:{port}")
    p = procs.Proc(argv, tmp_path / "prometheus.log")
    try:
        procs.wait_until(
            lambda: http_get(f"http://127.0.0.1:{port}/-/ready")[0] == 200, 30, "ready"
        )
        _, body = http_get(f"http://127.0.0.1:{port}/api/v1/rules")
        rules = [r["name"] for g in json.loads(body)["data"]["groups"] for r in g["rules"]]
        declared = yaml.safe_load((ROOT / "config" / "prometheus" / "alerts.yml").read_text())
        assert sorted(rules) == sorted(r["alert"] for g in declared["groups"] for r in g["rules"])
        assert "CopytradeForcedDry" in rules
    finally:
        p.stop()


def test_each_app_service_command_starts(
    compose: dict[str, Any], stack: Any, tmp_path: Path
) -> None:
    s = compose["services"]
    broker = stack.env["COPYTRADE_BROKER_URL"].rsplit("/", 1)[0] + "/13"
    redis.Redis.from_url(broker).flushdb()
    with fresh_database("ct_compose", migrate=False) as url:
        env = {
            **stack.env,
            "COPYTRADE_DATABASE_URL": url,
            "COPYTRADE_BROKER_URL": broker,
            "COPYTRADE_METRICS_PORT": "0",  # the worker's own port is set below
            "COPYTRADE_HEARTBEAT_METRICS_PORT": str(procs.free_port()),
            "COPYTRADE_FLOWER_USER": "ops",
            "COPYTRADE_FLOWER_PASSWORD": "compose-test",
            "COPYTRADE_LOG_FORMAT": "json",
        }
        migrate = subprocess.run(
            local(s["migrate"]["command"], [], tmp_path), env=env, capture_output=True, timeout=120
        )
        assert migrate.returncode == 0, migrate.stderr
        flower_port = procs.free_port()
        ready = {
            "worker": lambda p: "ready." in p.text(),
            "watcher": lambda p: "ready." in p.text(),
            "heartbeat": lambda p: (
                http_get(f"http://127.0.0.1:{env['COPYTRADE_HEARTBEAT_METRICS_PORT']}/metrics")[
                    1
                ].count(b"copytrade_mode_requested_live")
                > 0
            ),
            "beat": lambda p: "beat: Starting" in p.text(),
            "flower": lambda p: (
                http_get(f"http://127.0.0.1:{flower_port}/", ("ops", "compose-test"))[0] == 200
            ),
        }
        started: list[procs.Proc] = []
        ports: dict[str, int] = {}
        try:
            for name, is_ready in ready.items():
                argv = local(s[name]["command"], [], tmp_path)
                if name == "flower":
                    argv = [a if a != "--port=5555" else f"--port={flower_port}" for a in argv]
                extra = {}
                if name in ("worker", "watcher"):
                    extra["COPYTRADE_METRICS_PORT"] = str(ports.setdefault(name, procs.free_port()))
                p = procs.Proc(argv, tmp_path / f"{name}.log", env={**env, **extra})
                started.append(p)
                procs.wait_until(lambda p=p, r=is_ready: r(p), 60, name)  # type: ignore[misc]
            for port in ports.values():
                assert http_get(f"http://127.0.0.1:{port}/metrics")[0] == 200
            assert http_get(f"http://127.0.0.1:{flower_port}/")[0] == 401
        finally:
            for p in started:
                p.stop()
