"""``opsproof doctor``: what this machine has for opsproof, and the fix for each missing part."""

import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
SETUP_HINT = "bash scripts/setup.sh (as root) installs it"


@dataclass(frozen=True)
class Finding:
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


def _program(program: str, package: str, purpose: str, optional: bool = False) -> Finding:
    path = _which(program)
    if path:
        return Finding(program, True, f"{path} ({purpose})")
    return Finding(
        program,
        False,
        f"not found: needed for {purpose}",
        f"apt-get install {package}   # or {SETUP_HINT}",
        optional,
    )


def _docker_engine() -> Finding:
    socket = Path("/var/run/docker.sock")
    if not socket.exists():
        return Finding(
            "docker engine",
            False,
            "no engine socket at /var/run/docker.sock: container runtimes are unavailable",
            "apt-get install docker.io && dockerd &",
            optional=True,
        )
    try:
        import docker

        client = docker.DockerClient(base_url=f"unix://{socket}", timeout=3)
        version = client.version().get("Version", "?")
    except Exception as error:  # any failure here means "engine not usable", whatever its type
        return Finding("docker engine", False, f"socket present but engine unusable: {error}",
                       "start dockerd (as root)", optional=True)  # fmt: skip
    return Finding("docker engine", True, f"Docker {version} answering on {socket}")


def _postgres_user() -> Finding:
    if os.geteuid() != 0:
        return Finding("postgres as root", True, "not root: PostgreSQL runs as the current user")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return Finding(
            "postgres user",
            False,
            "running as root, but there is no 'postgres' OS user to run PostgreSQL as",
            "apt-get install postgresql (creates the user)",
        )
    return Finding("postgres user", True, "root: PostgreSQL will run as the 'postgres' user")


def _state_dir(state_dir: Path) -> Finding:
    probe = state_dir if state_dir.exists() else state_dir.parent
    while not probe.exists():
        probe = probe.parent
    if os.access(probe, os.W_OK):
        return Finding("state directory", True, f"{state_dir} is writable")
    return Finding(
        "state directory",
        False,
        f"{state_dir} is not writable",
        "set OPSPROOF_STATE_DIR to a writable directory or pass --state-dir",
    )


def diagnose(state_dir: Path) -> list[Finding]:
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
        _program("prometheus", "prometheus", "monitoring checks of the reference stack", True),
        _program("promtool", "prometheus", "static checks of alert rules", True),
        _program("docker", "docker.io", "the docker runtime", True),
        _docker_engine(),
    ]
