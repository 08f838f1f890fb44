"""``opsproof doctor``: what this machine has for opsproof, and the fix for each missing part."""

import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
SETUP_HINT = "bash scripts/setup.sh (as root) installs it"


@dataclass(frozen=True)
class DoctorFinding:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    optional: bool = False
    """Missing optional parts disable one feature; they do not fail the doctor."""


def _which(program: str) -> str | None:
    found = shutil.which(program)
    if found:
        return found
    for directory in POSTGRES_BIN_DIRS:
        candidate = directory / program
        if candidate.is_file():
            return str(candidate)
    return None


def _program(program: str, package: str, purpose: str, optional: bool = False) -> DoctorFinding:
    path = _which(program)
    if path:
        return DoctorFinding(program, True, f"{path} ({purpose})")
    return DoctorFinding(
        program,
        False,
        f"not found: needed for {purpose}",
        f"apt-get install {package}   # or {SETUP_HINT}",
        optional,
    )


def _docker_engine() -> DoctorFinding:
    """Whether an engine answers, its version, and whether it keeps to host networking."""
    from opsproof.errors import EngineUnavailable
    from opsproof.runtimes.docker_engine import START_HINT, connect, engine_version

    try:
        client = connect(timeout=5)
    except EngineUnavailable as error:
        return DoctorFinding("docker engine", False, str(error).split("; ")[0], START_HINT, True)
    try:
        version = engine_version(client)
        bridged = [n.name for n in client.networks.list() if n.attrs.get("Driver") == "bridge"]
    finally:
        client.close()
    if bridged:
        return DoctorFinding(
            "docker engine",
            False,
            f"Docker {version} has bridge networks ({', '.join(bridged)}); opsproof's containers "
            "use the host network only, and nothing should route to 172.x",
            "restart dockerd with --bridge=none --iptables=false (scripts/docker-engine.sh)",
            optional=True,
        )
    return DoctorFinding("docker engine", True, f"Docker {version}: host network only, no bridge")


def _postgres_user() -> DoctorFinding:
    if os.geteuid() != 0:
        return DoctorFinding(
            "postgres as root", True, "not root: PostgreSQL runs as the current user"
        )
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return DoctorFinding(
            "postgres user",
            False,
            "running as root, but there is no 'postgres' OS user to run PostgreSQL as",
            "apt-get install postgresql (creates the user)",
        )
    return DoctorFinding("postgres user", True, "root: PostgreSQL will run as the 'postgres' user")


def _state_dir(state_dir: Path) -> DoctorFinding:
    probe = state_dir if state_dir.exists() else state_dir.parent
    while not probe.exists():
        probe = probe.parent
    if os.access(probe, os.W_OK):
        return DoctorFinding("state directory", True, f"{state_dir} is writable")
    return DoctorFinding(
        "state directory",
        False,
        f"{state_dir} is not writable",
        "set OPSPROOF_STATE_DIR to a writable directory or pass --state-dir",
    )


def diagnose(state_dir: Path) -> list[DoctorFinding]:
    """Every finding, required parts first."""
    return [
        _program("redis-server", "redis-server", "the reference stack and Redis restores"),
        _program("redis-cli", "redis-tools", "Redis diagnostics"),
        _program("nginx", "nginx-light", "the reference stack's TLS front"),
        _program("initdb", "postgresql", "the reference stack's database"),
        _program("postgres", "postgresql", "the reference stack's database"),
        _program("pg_dump", "postgresql-client", "PostgreSQL backups"),
        _postgres_user(),
        _state_dir(state_dir),
        _program("prometheus", "prometheus", "the reference stack's monitoring"),
        _program("promtool", "prometheus", "static checks of alert rules"),
        _program("prometheus-alertmanager", "prometheus-alertmanager", "alert delivery"),
        _program("amtool", "prometheus-alertmanager", "static checks of Alertmanager config"),
        _program("prometheus-redis-exporter", "prometheus-redis-exporter", "Redis metrics"),
        _program(
            "prometheus-postgres-exporter", "prometheus-postgres-exporter", "PostgreSQL metrics"
        ),
        _program("prometheus-node-exporter", "prometheus-node-exporter", "host metrics"),
        _program("stress-ng", "stress-ng", "CPU and memory faults"),
        _program("nft", "nftables", "network faults"),
        _program("docker", "docker.io", "the docker runtime", True),
        _program("ssh", "openssh-client", "hosts reached over SSH"),
        _program("qemu-system-x86_64", "qemu-system-x86", "opsproof testhost", True),
        _program("mmdebstrap", "mmdebstrap", "building the testhost image", True),
        _docker_engine(),
    ]
