"""Disk fill: allocate a bounded number of bytes in a service's data directory."""

import os
import shutil

from opsproof.config.models import DiskFaultSpec
from opsproof.errors import SafetyError
from opsproof.faults.inverse import InverseStep, RemoveFile
from opsproof.probes.result import Figure, Observation

FILL_PREFIX = ".opsproof-fill-"


class DiskFill:
    def __init__(self, spec: DiskFaultSpec, fault_id: str) -> None:
        self.spec = spec
        self.file = spec.path / f"{FILL_PREFIX}{fault_id}"
        self._free_before = 0

    @property
    def target(self) -> str:
        return f"file://{self.spec.path}"

    @property
    def description(self) -> str:
        return f"disk fill of {self.spec.path} by {self.spec.size.human_readable()}"

    @property
    def undo(self) -> str:
        return f"remove {self.file}"

    def prepare(self) -> list[InverseStep]:
        if not self.spec.path.is_dir():
            raise SafetyError(f"{self.spec.path}: not a directory; point path at the data dir")
        self._free_before = shutil.disk_usage(self.spec.path).free
        left = self._free_before - self.spec.size
        if left < self.spec.keep_free:
            raise SafetyError(
                f"refused: filling {self.spec.path} by {self.spec.size.human_readable()} would "
                f"leave {max(left, 0) >> 20} MiB free, less than keep_free "
                f"({self.spec.keep_free.human_readable()})"
            )
        return [RemoveFile(path=self.file)]

    def inject(self) -> None:
        # posix_fallocate reserves real blocks at once, without writing them
        fd = os.open(self.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.posix_fallocate(fd, 0, self.spec.size)
        finally:
            os.close(fd)

    def effect(self) -> Observation:
        try:
            allocated = self.file.stat().st_blocks * 512
        except FileNotFoundError:
            allocated = 0
        free_now = shutil.disk_usage(self.spec.path).free
        figures = {
            "allocated_bytes": Figure(allocated, "B", f">= {int(self.spec.size)}"),
            "free_bytes_before": Figure(self._free_before, "B"),
            "free_bytes_during": Figure(free_now, "B"),
        }
        ok = allocated >= self.spec.size
        reason = f"{allocated >> 20} MiB allocated in {self.spec.path}; {free_now >> 20} MiB free"
        return Observation(ok, self.target, reason, figures)
