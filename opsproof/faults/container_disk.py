"""Disk fill inside a container: ``path`` is the container's own, filled where it lives.

In a volume or bind mount the fill goes to the mount's source on this machine; elsewhere to the
container's writable layer, created through the container's root (``/proc/<pid>/root``, so
overlayfs copies the directory up as it would for the service's own write) and removed from
the layer's upper directory, which outlives a restart of the container. The bound is
``DiskFill``'s: ``size`` at most, refused when less than ``keep_free`` would remain.
"""

from pathlib import Path, PurePosixPath
from typing import Any

from opsproof.config.models import DiskFaultSpec
from opsproof.errors import SafetyError
from opsproof.faults.disk import DiskFill
from opsproof.faults.inverse import InverseStep, RemoveFile
from opsproof.probes.result import Figure, Observation
from opsproof.runtimes.docker import DockerRuntime, DockerTarget


class Place:
    """Where a container path is on this machine: filled through ``fill``, undone at ``undo``."""

    def __init__(self, fill: str, undo: str, where: str) -> None:
        self.fill, self.undo, self.where = fill, undo, where


def place(attrs: dict[str, Any], path: PurePosixPath) -> Place | str:
    """The container's ``path`` on this machine, or why it cannot be filled."""
    mounts = sorted(attrs.get("Mounts") or [], key=lambda m: len(m["Destination"]), reverse=True)
    for mount in mounts:
        destination = PurePosixPath(mount["Destination"])
        if path == destination or destination in path.parents:
            source = str(PurePosixPath(mount["Source"]) / path.relative_to(destination))
            kind = f"volume {mount['Name']}" if mount.get("Type") == "volume" else "bind mount"
            return Place(source, source, f"{kind} at {destination}")
    driver = attrs.get("GraphDriver") or {}
    upper = (driver.get("Data") or {}).get("UpperDir")
    if driver.get("Name") != "overlay2" or not upper:
        return (
            f"{path} is in the container's writable layer, which the engine keeps with the "
            f"{driver.get('Name')!r} storage driver; only overlay2's is filled: point path at a "
            "volume of the container"
        )
    pid = int((attrs.get("State") or {}).get("Pid") or 0)
    if not pid:
        return f"the container is not running, so its {path} cannot be reached"
    inside = str(path.relative_to("/"))
    return Place(
        f"/proc/{pid}/root/{inside}", f"{upper}/{inside}", "the container's writable layer"
    )


class ContainerDiskFill:
    """A bounded fill of a directory as the container sees it."""

    def __init__(self, spec: DiskFaultSpec, target: DockerTarget, fault_id: str) -> None:
        self.spec = spec
        self.runtime = DockerRuntime(target)
        self._fault_id = fault_id
        self._fill: DiskFill | None = None
        self._where = ""

    @property
    def target(self) -> str:
        return f"{self.runtime.id}:{self.spec.path}"

    @property
    def description(self) -> str:
        where = f" ({self._where})" if self._where else ""
        return (
            f"disk fill of {self.spec.path} in {self.runtime.id}{where} by "
            f"{self.spec.size.human_readable()} (keeping {self.spec.keep_free.human_readable()} "
            "free)"
        )

    @property
    def undo(self) -> str:
        return "remove the file it allocates (from the volume or the container's layer)"

    def prepare(self) -> list[InverseStep]:
        found = place(self.runtime.container().attrs, PurePosixPath(self.spec.path))
        if isinstance(found, str):
            raise SafetyError(f"{self.runtime.id}: {found}")
        self._where = found.where
        fill = DiskFill(self.spec.model_copy(update={"path": Path(found.fill)}), self._fault_id)
        fill.prepare()  # the bound, checked on the filesystem that holds the path
        self._fill = fill
        return [RemoveFile(path=Path(found.undo) / fill.file.name)]

    def inject(self) -> None:
        assert self._fill is not None, "inject() before prepare()"
        self._fill.inject()

    def effect(self) -> Observation:
        assert self._fill is not None, "effect() before prepare()"
        seen = self._fill.effect()
        figures = {**seen.figures, "filled_in": Figure(self._where)}
        return Observation(seen.ok, self.target, f"{seen.reason} ({self._where})", figures)
