"""Images from installed packages, cached by content hash; nothing of a stack left behind
after ``down`` unless asked; the compose file has the stack's shape; the doctor's verdict."""

import time
from pathlib import Path

import docker
import pytest
import yaml

from opsproof.doctor import diagnose
from opsproof.stack.docker import rootfs
from opsproof.stack.docker.images import ensure_images, roots
from opsproof.stack.docker.stack import STATE_LABEL, stop_docker_stack

COMPOSE = Path(__file__).parents[2] / "fixtures" / "docker-compose.yml"


def test_the_closure_has_the_programs_and_leaves_out_what_is_never_run() -> None:
    names = {p.name for p in rootfs.closure(roots(), rootfs.installed())}
    assert {"redis-server", "nginx-light", "python3", "dash", "libc6"} <= names
    assert not {n for n in names if n.startswith(tuple(rootfs.PRUNED))}
    assert rootfs._arcname("/bin/dash") == "usr/bin/dash"
    assert rootfs._excluded("usr/share/doc/libc6/copyright")
    assert rootfs._excluded("usr/lib/postgresql/15/lib/llvmjit.so")
    assert not rootfs._excluded("usr/lib/postgresql/15/lib/plpgsql.so")


def test_a_cached_build_is_instant(engine: docker.DockerClient, image: str) -> None:
    began = time.monotonic()
    images = ensure_images(engine, lambda message: None)
    assert images.base.cached and images.service.cached and images.service.image == image
    assert time.monotonic() - began < 5


def test_down_removes_every_labelled_container_and_volume(
    engine: docker.DockerClient, image: str, tmp_path: Path
) -> None:
    labels = {STATE_LABEL: str(tmp_path.absolute())}
    selector = {"label": f"{STATE_LABEL}={tmp_path.absolute()}"}
    for keep in (True, False):
        volume = engine.volumes.create(labels=labels)
        engine.containers.run(
            image,
            ["python3", "-c", "import time; time.sleep(60)"],
            init=True,  # as PID 1 it would ignore SIGTERM: each down would wait 10 s to kill it
            network_mode="none",
            labels=labels,
            volumes={volume.name: {"bind": "/data", "mode": "rw"}},
            detach=True,
        )
        stop_docker_stack(tmp_path, keep_volumes=keep)
        assert not engine.containers.list(all=True, filters=selector)
        assert bool(engine.volumes.list(filters=selector)) is keep
    assert not engine.volumes.list(filters=selector)


def test_the_compose_file_uses_the_host_network_only() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert set(services) == {"redis", "postgres", "api", "worker", "nginx"}
    for service in services.values():
        assert service["network_mode"] == "host" and "ports" not in service
        assert service["restart"] == "unless-stopped" and service["mem_limit"]


def test_the_doctor_reports_the_engine(engine: docker.DockerClient, tmp_path: Path) -> None:
    (finding,) = [f for f in diagnose(tmp_path) if f.name == "docker engine"]
    assert finding.ok, finding.detail
    assert "no bridge" in finding.detail


def test_the_doctor_says_how_to_get_an_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    (finding,) = [f for f in diagnose(tmp_path) if f.name == "docker engine"]
    assert not finding.ok and finding.optional
    assert "no-engine.sock" in finding.detail and "docker-engine.sh" in finding.fix
