"""A container's data, set aside by a DR drill without deleting it.

The data directory a server in a container reports lives in one of its mounts: a bind mount's
host directory is renamed aside like a local process's (:class:`LocalDataDir`); a named volume
cannot be renamed while its container exists, so it is cloned into a new volume
(``<volume>-opsproof-aside-<drill>``) by a helper container from the store's own image, the
clone is checked (files and bytes) and marked verified, and only then is the original emptied
for the restore. Putting it back copies the clone into the emptied volume, checks it against
the mark and removes the clone; a clone never marked verified means the original was never
touched, and only the partial clone goes.
"""

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from docker.errors import ImageNotFound, NotFound
from pydantic import BaseModel, ConfigDict, PrivateAttr

from opsproof.errors import BackupError, RevertFailed, SafetyError
from opsproof.runtimes.data import LocalDataDir, local_data_dir
from opsproof.runtimes.docker import DockerRuntime
from opsproof.runtimes.docker_engine import connect
from opsproof.runtimes.docker_helper import DRILL_LABEL, Helper, run_helper

ASIDE_VOLUME_MARK = "-opsproof-aside-"
ASIDE_OF_LABEL = "opsproof.aside-of"
"""The clone carries the original's labels too, so whatever removes a stack's volumes by
label (``opsproof stack down``, ``docker compose down -v``) removes its clones with it."""
ORIGINAL = "/opsproof/original"
ASIDE = "/opsproof/aside"
"""Where a helper mounts the volume and its clone; the clone holds ``data/`` (the copy) and
``verified`` (its files and bytes, written once they matched the original's)."""
COPY_TIMEOUT = 3600.0
SURVEY_TIMEOUT = 120.0


def _list(path: str) -> str:
    """One size per line for every entry under ``path`` but directories: their count and sum
    are the check of a copy."""
    return f'find "{path}" ! -type d -exec stat -c %s {{}} +'


SURVEY = f"""set -e
cd "{ORIGINAL}/$1"
stat -c '%u %g %a' .
df -Pk / | tail -n 1
{_list(ORIGINAL)}
"""
"""The data directory's owner and mode, the room where new volumes go (the helper's own root
is in the engine's data root, beside the volumes), and the volume's files."""
CLONE = f"""set -e
mkdir "{ASIDE}/data"
cp -a "{ORIGINAL}/." "{ASIDE}/data/"
echo original
{_list(ORIGINAL)}
echo clone
{_list(ASIDE + "/data")}
"""
EMPTY = f"""set -e
printf '%s %s\\n' "$1" "$2" > "{ASIDE}/verified"
sync
find "{ORIGINAL}/$3" -mindepth 1 -maxdepth 1 -exec rm -rf {{}} +
"""
"""The mark first, then the data directory emptied (its owner and mode stay)."""
PUT_BACK = f"""set -e
if [ ! -f "{ASIDE}/verified" ]; then echo unverified; exit 0; fi
find "{ORIGINAL}" -mindepth 1 -maxdepth 1 -exec rm -rf {{}} +
cp -a "{ASIDE}/data/." "{ORIGINAL}/"
cat "{ASIDE}/verified"
{_list(ORIGINAL)}
"""


@dataclass(frozen=True)
class Files:
    count: int
    size: int

    def __str__(self) -> str:
        return f"{self.count} files, {self.size} bytes"


def _files(lines: list[str]) -> Files:
    sizes = [int(line) for line in lines if line.strip()]
    return Files(len(sizes), sum(sizes))


@dataclass(frozen=True)
class Survey:
    owner: str
    """``uid:gid`` of the data directory."""
    mode: int
    free: int
    """Bytes free where the engine creates volumes."""
    files: Files


class VolumeData(BaseModel):
    """A store's data directory in a named volume; plain data, so the ledger can carry it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["volume"] = "volume"
    volume: str
    sub: str
    """The data directory inside the volume (``""``: its root)."""
    image: str
    """The store's own image (by id): its tools and users handle the files."""
    drill_id: str
    _survey: Survey | None = PrivateAttr(default=None)

    @property
    def clone(self) -> str:
        return f"{self.volume}{ASIDE_VOLUME_MARK}{self.drill_id}"

    @property
    def where(self) -> str:
        return f"volume {self.volume}" + (f" ({self.sub})" if self.sub else "")

    @property
    def aside_where(self) -> str:
        return f"volume {self.clone}"

    def _helper(self, purpose: str, script: str, *args: str, ro: bool = False) -> Helper:
        mounts = {self.volume: {"bind": ORIGINAL, "mode": "ro" if ro else "rw"}}
        if not ro:
            mounts[self.clone] = {"bind": ASIDE, "mode": "rw"}
        return Helper(self.image, self.drill_id, purpose, script, args, mounts=mounts)

    def host_dir(self) -> Path:
        """Where this machine's engine keeps the data directory (a backup reads a file there)."""
        return Path(str(connect().volumes.get(self.volume).attrs["Mountpoint"]), self.sub)

    def survey(self) -> Survey:
        """Asked once (while the store runs, read-only) and kept."""
        if self._survey is None:
            lines = run_helper(
                connect(), self._helper("survey", SURVEY, self.sub, ro=True), SURVEY_TIMEOUT
            ).splitlines()
            if len(lines) < 2:
                raise BackupError(f"{self.where}: the survey helper said nothing")
            uid, gid, mode = lines[0].split()
            free_kib = int(lines[1].split()[3])
            self._survey = Survey(f"{uid}:{gid}", int(mode, 8), free_kib * 1024, _files(lines[2:]))
        return self._survey

    def used_bytes(self) -> int:
        """The whole volume's bytes: the clone copies all of it."""
        return self.survey().files.size

    def free_bytes(self) -> int:
        return self.survey().free

    def move_aside(self) -> None:
        """Clone (with the original's labels), check the clone, mark it verified, then empty
        the data directory."""
        client = connect()
        labels = client.volumes.get(self.volume).attrs.get("Labels") or {}
        labels |= {DRILL_LABEL: self.drill_id, ASIDE_OF_LABEL: self.volume}
        client.volumes.create(self.clone, labels=labels)
        output = run_helper(client, self._helper("clone", CLONE), COPY_TIMEOUT).splitlines()
        split = output.index("clone")
        original, clone = _files(output[1:split]), _files(output[split + 1 :])
        if original != clone:
            raise BackupError(
                f"{self.where}: its clone {self.clone} differs ({clone}; the original has "
                f"{original}); nothing was emptied"
            )
        run_helper(
            client,
            self._helper("empty", EMPTY, str(original.count), str(original.size), self.sub),
            COPY_TIMEOUT,
        )

    def is_aside(self) -> bool:
        try:
            connect().volumes.get(self.clone)
        except NotFound:
            return False
        return True

    def put_back(self) -> None:
        """Copy the verified clone back over what was restored, check it, remove the clone;
        idempotent. A clone never verified is removed alone: the original was never emptied."""
        client = connect()
        try:
            clone = client.volumes.get(self.clone)
        except NotFound:
            return  # never moved, or already back
        output = run_helper(client, self._helper("put-back", PUT_BACK), COPY_TIMEOUT).splitlines()
        if output[:1] != ["unverified"]:
            count, size = (int(n) for n in output[0].split())
            expected, found = Files(count, size), _files(output[1:])
            if found != expected:
                raise RevertFailed(
                    f"{self.where}: copied back from {self.clone}, but it holds {found} where "
                    f"the clone was verified with {expected}; the clone is kept"
                )
        clone.remove(force=True)


def container_data_home(
    runtime: DockerRuntime, data_dir: PurePosixPath, drill_id: str
) -> LocalDataDir | VolumeData:
    """Where ``data_dir`` (a path inside the container) lives: a bind mount's host directory,
    or a named volume. SafetyError in one line when the drill could not put it back: the
    directory in no mount, the volume or the image gone."""
    container = runtime.container()
    tmpfs = container.attrs["HostConfig"].get("Tmpfs") or {}  # --tmpfs is not in Mounts
    every = [*(container.attrs.get("Mounts") or []),
             *({"Destination": path, "Type": "tmpfs"} for path in tmpfs)]  # fmt: skip
    mounts = [
        m for m in every
        if data_dir == PurePosixPath(m["Destination"])
        or PurePosixPath(m["Destination"]) in data_dir.parents
    ]  # fmt: skip
    if not mounts:
        raise SafetyError(
            f"{runtime.id}: its data directory {data_dir} is in the container's own filesystem, "
            "not in a volume or bind mount, so it cannot be set aside; mount a volume there"
        )
    mount = max(mounts, key=lambda m: len(m["Destination"]))
    sub = data_dir.relative_to(mount["Destination"])
    if mount["Type"] == "bind":
        return local_data_dir(Path(mount["Source"]) / sub, drill_id)
    if mount["Type"] != "volume":
        raise SafetyError(
            f"{runtime.id}: its data directory {data_dir} is on a {mount['Type']} mount, which "
            "keeps nothing to set aside; use a named volume or a bind mount"
        )
    client = runtime.client
    try:
        client.volumes.get(mount["Name"])
    except NotFound:
        raise SafetyError(
            f"{runtime.id}: its volume {mount['Name']} does not exist (docker volume ls)"
        ) from None
    image = str(container.attrs["Image"])
    try:
        client.images.get(image)
    except ImageNotFound:
        raise SafetyError(
            f"{runtime.id}: its image {container.attrs['Config'].get('Image')} ({image[:19]}) is "
            "gone, so no helper container can copy its volume back; pull or build it again"
        ) from None
    home = VolumeData(volume=mount["Name"], sub="" if str(sub) == "." else str(sub), image=image,
                      drill_id=drill_id)  # fmt: skip
    try:
        home.survey()
    except BackupError as exc:
        raise SafetyError(
            f"{runtime.id}: a helper container from its image cannot read {home.where} ({exc}); "
            "the drill copies a volume with the image's own sh, cp, find, stat and df"
        ) from None
    return home
