"""A supervisor that restarts the service by itself ends the outage, observed: a container
OOM-killed through its memory limit is restarted by its restart policy while the fault is still
in place, and the evidence says the supervisor, not opsproof's revert, brought it back."""

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from opsproof.config.loader import load_environment
from opsproof.faults.experiment import ChaosRun, run_experiment
from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.runtimes.docker import DockerRuntime, DockerTarget
from opsproof.support.ports import free_ports

SERVER = (
    "import http.server, sys\n"
    "class Ok(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.send_header('Content-Length', '0'); self.end_headers()\n"
    "    def log_message(self, *args): pass\n"
    "http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), Ok).serve_forever()\n"
)
MEMORY = 96 << 20


@pytest.fixture
def web(engine: docker.DockerClient, image: str) -> Iterator[tuple[Container, int]]:
    """An HTTP service in a container with a restart policy, on a free loopback port."""
    port = free_ports(1)[0]
    container: Container = engine.containers.run(
        image,
        ["python3", "-c", SERVER, str(port)],
        name=f"opsproof-test-web-{uuid.uuid4().hex[:8]}",
        user="65534:65534",
        network_mode="host",
        restart_policy={"Name": "unless-stopped"},
        mem_limit=MEMORY,
        memswap_limit=MEMORY,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        labels={"opsproof.test": "web"},
        detach=True,
    )
    runtime = DockerRuntime(DockerTarget(name="web", container=str(container.name)), engine)
    runtime.wait_for(lambda s: s.running, 30, "running")
    deadline = time.monotonic() + 30
    while not _listening(port):
        assert time.monotonic() < deadline, "the container's HTTP server did not start"
        time.sleep(0.05)
    yield container, port
    container.remove(force=True)


def test_the_restart_policy_ends_the_outage_and_the_evidence_says_so(
    web: tuple[Container, int], tmp_path: Path
) -> None:
    container, port = web
    config = tmp_path / "opsproof.yaml"
    config.write_text(
        "version: 1\nenvironments:\n  lab:\n    chaos: allowed\n    services:\n"
        f"      web:\n        kind: http\n        url: http://127.0.0.1:{port}\n"
        "        health: {path: /, timeout: 500ms}\n"
        f"        runtime: {{docker: {{container: {container.name}}}}}\n"
        "    chaos_plan:\n      may_hit: [web]\n      steady_state: [web]\n"
        "      recovery: {within: 20s, consecutive: 2, interval: 50ms}\n"
        "      experiments:\n        - name: web OOM-killed\n"
        "          fault: {action: memory, service: web, limit: 32MiB, victim: service}\n"
        "          duration: 8s\n"
    )
    loaded = load_environment(config, "lab")
    run = ChaosRun("lab", loaded.environment, tmp_path, Ledger(ledger_path(tmp_path)))
    assert loaded.environment.chaos_plan is not None
    result = run_experiment(run, loaded.environment.chaos_plan.experiments[0])
    assert result.verdict == "passed", result.reason
    restarts = result.figures["fault.restarts_by_policy"].value
    assert isinstance(restarts, int) and restarts >= 1
    assert result.outage_s is not None and result.outage_s > 0
    assert result.outage_offset_s is not None and result.reverted_offset_s is not None
    assert result.outage_offset_s + result.outage_s < result.reverted_offset_s  # before the revert
    assert result.restored_by == "supervisor"
    assert "ended by the supervisor" in result.reason
    assert not run.ledger.open_faults()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True
