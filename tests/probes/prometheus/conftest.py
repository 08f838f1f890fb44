"""A real Prometheus for the Prometheus probe tests, on a free 127.0.0.1 port.

It scrapes every second three jobs: ``app`` (a prometheus_client endpoint served here, up),
``ghost`` (a closed loopback port, down) and ``idle`` (configured, no target), and evaluates
two alerts that always fire: ``AlwaysCritical`` (severity critical) and ``AlwaysWarning``.
"""

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, start_http_server

from opsproof.support.ports import free_ports

PROMETHEUS = "prometheus"
STARTUP_TIMEOUT = 20.0


@dataclass(frozen=True)
class PrometheusServer:
    url: str
    app_url: str
    """Scrape URL of the ``app`` job's only target (up)."""
    ghost_url: str
    """Scrape URL of the ``ghost`` job's only target: a closed port, so down."""


def wait_until(
    ready: Callable[[], bool], what: str, proc: subprocess.Popen[bytes], log: Path
) -> None:
    """Poll ``ready`` until it holds; fail with Prometheus's log if it exits or time runs out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            why = f"exited {proc.returncode}" if proc.poll() is not None else "timed out"
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(f"Prometheus: {what} not seen ({why}); its log ends:\n{tail}")
        time.sleep(0.1)


def api(url: str, path: str) -> dict[str, object]:
    """The ``data`` of one API answer, or ``{}`` while Prometheus cannot answer yet."""
    try:
        answer = httpx.get(url + path, timeout=1.0, trust_env=False)
        data = answer.json()["data"] if answer.status_code == 200 else {}
    except (httpx.HTTPError, ValueError, KeyError):
        return {}
    return data if isinstance(data, dict) else {}


def health_by_job(url: str) -> dict[str, str]:
    targets = api(url, "/api/v1/targets?state=active").get("activeTargets")
    seen = targets if isinstance(targets, list) else []
    return {t["labels"]["job"]: t["health"] for t in seen}


def firing(url: str) -> set[str]:
    alerts = api(url, "/api/v1/alerts").get("alerts")
    seen = alerts if isinstance(alerts, list) else []
    return {a["labels"]["alertname"] for a in seen if a["state"] == "firing"}


def write_config(directory: Path, app: str, ghost: str) -> Path:
    rules = directory / "rules.yml"
    alerts = [
        {"alert": "AlwaysCritical", "expr": "vector(1)", "labels": {"severity": "critical"}},
        {"alert": "AlwaysWarning", "expr": "vector(1)", "labels": {"severity": "warning"}},
    ]
    rules.write_text(yaml.safe_dump({"groups": [{"name": "always", "rules": alerts}]}))
    config = directory / "prometheus.yml"
    jobs = {"app": [app], "ghost": [ghost], "idle": []}
    document = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": targets}] if targets else []}
            for job, targets in jobs.items()
        ],
    }
    config.write_text(yaml.safe_dump(document))
    return config


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A running Prometheus whose targets have been scraped and whose alerts are firing."""
    binary = shutil.which(PROMETHEUS)
    if binary is None:
        pytest.fail("prometheus is not installed: run scripts/setup.sh (Debian package prometheus)")
    directory = tmp_path_factory.mktemp("prometheus")
    registry = CollectorRegistry()
    Counter("jobs_done", "Jobs done", registry=registry).inc()
    metrics, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
    app = f"127.0.0.1:{metrics.server_port}"
    ghost = f"127.0.0.1:{free_ports(1)[0]}"
    url = f"http://127.0.0.1:{free_ports(1)[0]}"
    log = directory / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={write_config(directory, app, ghost)}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address={url.removeprefix('http://')}",  # never its 0.0.0.0 default
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    try:
        wait_until(
            lambda: health_by_job(url) == {"app": "up", "ghost": "down"},
            "app up and ghost down",
            proc,
            log,
        )
        wait_until(
            lambda: firing(url) >= {"AlwaysCritical", "AlwaysWarning"}, "alerts firing", proc, log
        )
        yield PrometheusServer(url, f"http://{app}/metrics", f"http://{ghost}/metrics")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        metrics.shutdown()
        metrics.server_close()
