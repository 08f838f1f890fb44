"""An RDB on another host, copied here over the run's SSH session once BGSAVE wrote it.

The file is read on the host (through ``sudo -n`` when the host's ``ssh.sudo`` says so: an RDB
is the redis user's), refused before the copy when it is larger than the limit, streamed into
the store within the backup's deadline, and then hashed on the host: a copy whose sha256 is not
the host's file's (cut short, or the file replaced meanwhile) is deleted and the backup fails.
"""

from dataclasses import dataclass
from pathlib import Path

from opsproof.backup.on_host import OnHost
from opsproof.backup.store import sha256_file
from opsproof.errors import BackupError, HostError
from opsproof.support.waiting import time_left
from opsproof.transport.pool import SESSIONS
from opsproof.transport.ssh import CommandResult, SshSession


@dataclass(frozen=True)
class _Copy:
    session: SshSession
    remote: OnHost
    path: Path
    deadline: float
    source: str
    """The backup source's name, for the key a message tells to change."""
    target: str

    @property
    def rdb(self) -> str:
        """How messages name the file: the server, then where its RDB is."""
        return f"{self.target}: its RDB {self.remote.host_name}:{self.path}"

    def on_host(self, argv: list[str]) -> str:
        done = self.session.run(argv, timeout=self.left())
        self.judge(done)
        return done.text().strip()

    def left(self) -> float:
        return time_left(self.deadline)

    def judge(self, done: CommandResult) -> None:
        if done.timed_out:
            raise BackupError(f"{self.rdb}: not read within the backup's deadline (backup.timeout)")
        if not done.ok:
            raise BackupError(
                f"{self.rdb}: cannot be read there ({done.why()}); the login needs read access "
                f"to it, or ssh.sudo: true on host {self.remote.host_name}"
            )


def copy_remote_rdb(
    remote: OnHost, path: Path, dest: Path, deadline: float, source: str, target: str
) -> str:
    """Copy ``path`` on ``remote``'s host into ``dest`` before the monotonic ``deadline``; the
    copy's sha256, the host's file's. Otherwise BackupError naming ``target`` (the server), the
    file and what to do, and no ``dest``. ``source`` is the backup source's name."""
    try:
        session = SESSIONS.session(remote.host)
        return _copied(_Copy(session, remote, path, deadline, source, target), dest)
    except HostError as error:
        raise BackupError(
            f"{target}: cannot copy its RDB from host {remote.host_name}: {error}"
        ) from None


def _copied(copy: _Copy, dest: Path) -> str:
    limit = copy.remote.max_size
    size_text = copy.on_host(["stat", "-L", "-c", "%s", "--", str(copy.path)])
    if not size_text.isdigit():
        raise BackupError(f"{copy.rdb}: stat answered {size_text[:40]!r}, not a size")
    size = int(size_text)
    if size > limit:
        raise BackupError(
            f"{copy.rdb} is {size} bytes, over the limit of {limit} for a copy over SSH; "
            f"raise backup.sources.{copy.source}.max_copy_size if the store has room for it"
        )
    try:
        with dest.open("wb") as out:
            # head bounds the host's side too: a file that grew past the limit is not sent whole
            done = copy.session.run(
                ["head", "-c", str(limit + 1), "--", str(copy.path)],
                timeout=copy.left(),
                max_output=limit,
                stdout_to=out,
            )
        copy.judge(done)
        if done.truncated:
            raise BackupError(
                f"{copy.rdb} grew past the limit of {limit} bytes while it was copied; raise "
                f"backup.sources.{copy.source}.max_copy_size if the store has room for it"
            )
        here = sha256_file(dest)
        there = copy.on_host(["sha256sum", "--", str(copy.path)]).split(maxsplit=1)[:1]
        if [here] != there:
            theirs = f"{there[0][:16]}…" if there else "nothing"
            raise BackupError(
                f"{copy.rdb}: the copy does not match the file there (sha256 {here[:16]}… "
                f"here, {theirs} on the host): cut short or replaced while it was copied, so "
                "it is deleted"
            )
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return here
