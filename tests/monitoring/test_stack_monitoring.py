"""The reference stack's monitoring: real Debian programs, loopback only, every job scraped and
up, recorded privately; tests choose it with ``start_stack(..., monitoring=False)``, and stopping
the stack stops it."""

import stat
from pathlib import Path

import httpx
import psutil

from opsproof.runtimes.launched import StackState
from opsproof.stack.launcher import start_stack, stop_stack
from opsproof.stack.monitoring import MONITORING_FILE, recorded
from opsproof.stack.monitoring_ready import JOBS
from opsproof.support.processes import running_processes

NAMES = {"prometheus", "alertmanager", "redis-exporter", "postgres-exporter", "node-exporter"}


def listeners(pid: int) -> set[str]:
    """Every address the process listens on (TCP, any family)."""
    proc = psutil.Process(pid)
    return {
        f"{c.laddr.ip}:{c.laddr.port}"
        for c in proc.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    }


def test_monitoring_listens_on_loopback_only_and_scrapes_every_job(
    reference_stack: StackState, reference_stack_dir: Path
) -> None:
    components = recorded(reference_stack_dir)
    assert {c.name for c in components} == NAMES
    for component in components:
        addresses = listeners(component.pid)
        assert addresses == {f"127.0.0.1:{component.port}"}, (component.name, addresses)
    mode = (reference_stack_dir / MONITORING_FILE).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600  # the PostgreSQL exporter's DSN holds a password
    values = reference_stack.values
    status = httpx.get(values["alertmanager.url"] + "/api/v2/status", timeout=5).json()
    assert status["cluster"]["status"] == "disabled"  # no gossip port on 0.0.0.0:9094
    targets = httpx.get(values["prometheus.url"] + "/api/v1/targets", timeout=5).json()
    health = {t["labels"]["job"]: t["health"] for t in targets["data"]["activeTargets"]}
    assert health == dict.fromkeys(JOBS, "up")


def test_without_monitoring_then_with_it_and_stop_leaves_nothing(tmp_path: Path) -> None:
    bare, _ = start_stack(tmp_path, monitoring=False)
    assert "prometheus.url" not in bare.values and not recorded(tmp_path)

    full, started = start_stack(tmp_path)  # monitoring asked for: the bare stack is replaced
    assert started and full.root != bare.root
    components = recorded(tmp_path)
    assert {c.name for c in components} == NAMES

    stop_stack(tmp_path)
    assert not any(running_processes(components).values())
    assert not (tmp_path / MONITORING_FILE).exists()
