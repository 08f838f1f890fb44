"""A data store's data as its runtime keeps it, and how a DR drill sets it aside and back.

The drill never deletes a store's data: it renames the data directory to a sibling (the same
filesystem, so the rename is atomic and costs no space) and leaves an empty directory with the
same owner and mode for the restore. Putting it back is the reverse rename and is idempotent,
so the fault ledger can replay it from another process after the run died.

Every runtime that can host a drilled store supplies a :class:`DataHome` for the directory its
server reports. A local process keeps it on this machine (:class:`LocalDataDir`), and so does a
container with a bind mount; a named volume cannot be renamed, so it is cloned instead
(``opsproof.runtimes.docker_data``); a systemd unit over SSH would do the same renames on its
host.
"""

import os
import shutil
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from opsproof.errors import BackupError

ASIDE_MARK = ".opsproof-aside-"


class DataHome(Protocol):
    """Where one store keeps its data, and the two moves a drill makes with it."""

    @property
    def where(self) -> str:
        """Readable: ``/var/lib/redis``."""
        ...

    @property
    def aside_where(self) -> str:
        """Where the original data waits while the drill runs: ``/var/lib/redis.opsproof-…``."""
        ...

    def used_bytes(self) -> int:
        """Bytes of the data now in place (what a restore needs again beside the aside copy)."""
        ...

    def free_bytes(self) -> int:
        """Bytes free for the restore on the filesystem that holds the data."""
        ...

    def move_aside(self) -> None:
        """Rename the data aside and leave an empty directory with its owner and mode."""
        ...

    def is_aside(self) -> bool:
        """The original data is aside (not yet put back)."""
        ...

    def put_back(self) -> None:
        """Remove what the drill restored and rename the original back; idempotent."""
        ...


class LocalDataDir(BaseModel):
    """A data directory on this machine; plain data, so the ledger can carry it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    drill_id: str

    @property
    def aside(self) -> Path:
        return self.path.with_name(f"{self.path.name}{ASIDE_MARK}{self.drill_id}")

    @property
    def where(self) -> str:
        return str(self.path)

    @property
    def aside_where(self) -> str:
        return str(self.aside)

    def used_bytes(self) -> int:
        total = 0
        for root, _, files in os.walk(self.path):
            for name in files:
                try:
                    total += (Path(root) / name).lstat().st_size
                except OSError:  # a file the server removed meanwhile
                    continue
        return total

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.path).free

    def move_aside(self) -> None:
        info = self.path.stat()
        try:
            self.path.rename(self.aside)
            self.path.mkdir(mode=0o700)
            os.chown(self.path, info.st_uid, info.st_gid)
            self.path.chmod(info.st_mode & 0o7777)
        except OSError as exc:
            raise BackupError(f"{self.path}: cannot move the data aside: {exc}") from None

    def is_aside(self) -> bool:
        return self.aside.exists()

    def put_back(self) -> None:
        if not self.aside.exists():
            return  # never moved, or already back
        if self.path.exists():
            # only what the drill restored; the original is the aside directory
            shutil.rmtree(self.path)
        self.aside.rename(self.path)


def local_data_dir(path: Path, drill_id: str) -> LocalDataDir:
    """The data directory ``path`` on this machine; refuses one that is not a directory."""
    if not path.is_dir():
        raise BackupError(f"{path}: the data directory does not exist here")
    if path.resolve().is_mount():
        raise BackupError(
            f"{path} is a mount point, which cannot be renamed aside: keep the data in a "
            "directory inside the mounted filesystem"
        )
    return LocalDataDir(path=path.resolve(), drill_id=drill_id)
