"""Memory and CPU of a local container read from its own cgroup, as ``docker stats`` computes
them (usage less inactive file cache; CPU time): one file read instead of an engine call that
waits for the engine's next one-second stats tick once anything watches the container."""

from pathlib import Path

from opsproof.health.cgroup_counters import controller_dir


def _stat(directory: Path, name: str) -> dict[str, int]:
    pairs = (line.split(" ", 1) for line in (directory / name).read_text().splitlines())
    return {key: int(value) for key, value in pairs}


def memory_bytes(pid: int) -> int | None:
    """The cgroup's charge less its inactive file cache; None when not readable here."""
    directory = controller_dir(pid, "memory")
    try:
        if directory is None:
            return None
        if (directory / "memory.usage_in_bytes").exists():  # v1
            usage = int((directory / "memory.usage_in_bytes").read_text())
            cache = _stat(directory, "memory.stat").get("total_inactive_file", 0)
        else:
            usage = int((directory / "memory.current").read_text())
            cache = _stat(directory, "memory.stat").get("inactive_file", 0)
    except (OSError, ValueError):
        return None
    return max(usage - cache, 0)


def cpu_seconds(pid: int) -> float | None:
    """The cgroup's CPU time so far; None when not readable here."""
    directory = controller_dir(pid, "cpuacct")
    try:
        if directory is None:
            return None
        if (directory / "cpuacct.usage").exists():  # v1, nanoseconds
            return int((directory / "cpuacct.usage").read_text()) / 1e9
        return _stat(directory, "cpu.stat")["usage_usec"] / 1e6
    except (OSError, ValueError, KeyError):
        return None
