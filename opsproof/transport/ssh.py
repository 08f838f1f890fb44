"""Commands on a host over one multiplexed OpenSSH connection (ControlMaster).

Why OpenSSH and not a Python SSH library: it reads known_hosts, keys and agents exactly as the
operator's own ``ssh`` does, and once the master is up a command costs one local client fork
and one channel, not a key exchange (bench/ssh_commands.py: ~1.7 s fresh vs tens of ms
multiplexed against an emulated guest). The control socket lives in a private (0700) temporary
directory and the master ends with :meth:`SshSession.close` (or the ``with`` block); a master
found dead before a command is opened again once (``reconnects`` counts it).

Every command is bounded twice: ``timeout -k`` on the host ends it there (closing a channel
does not kill a command without a terminal), and the local client is killed a little later if
the host does not answer at all.
"""

import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from opsproof.errors import HostUnreachable
from opsproof.support.programs import find_program
from opsproof.support.text import one_line
from opsproof.transport.capture import BoundedReader
from opsproof.transport.endpoint import SshEndpoint
from opsproof.transport.reasons import connection_error

SSH_FAILED = 255
"""The exit status of the ``ssh`` client itself failing (no connection, lost connection)."""
TIMED_OUT = 124
"""coreutils ``timeout``'s exit status when it ended the command."""
KILLED_AFTER_GRACE = 137
KILL_GRACE = 2.0
"""Seconds between ``timeout``'s SIGTERM and its SIGKILL on the host."""
LOCAL_SLACK = 10.0
"""Seconds the local client waits beyond the command's timeout before it is killed itself."""
PERSIST_IDLE = "120s"
"""A master whose run died without closing it ends after this long idle: nothing left behind."""
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_OUTPUT = 1 << 20


@dataclass(frozen=True)
class CommandResult:
    """What one remote command did; ``timed_out`` means ``timeout`` ended it on the host."""

    command: str
    exit_status: int
    stdout: bytes
    stderr: bytes
    elapsed: float
    timed_out: bool
    truncated: bool

    @property
    def ok(self) -> bool:
        return self.exit_status == 0

    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    def why(self) -> str:
        """Why it failed, for a reason: its stderr's first words, else its exit status."""
        return one_line(self.stderr.decode("utf-8", "replace")) or f"exit {self.exit_status}"


class SshSession:
    """One master connection to ``endpoint``; :meth:`run` sends commands through it."""

    def __init__(self, endpoint: SshEndpoint) -> None:
        self.endpoint = endpoint
        self._ssh = find_program("ssh", package="openssh-client")
        self._dir: Path | None = None
        self.reconnects = 0
        """How often the master was found gone and opened again (a cut connection)."""

    @property
    def control_path(self) -> Path:
        if self._dir is None:
            raise HostUnreachable(f"{self.endpoint.name}: no connection open")
        return self._dir / "control"

    def options(self) -> list[str]:
        """The client options every connection to the endpoint uses: strict host keys from the
        configured file only, no user ssh_config, no prompts, dead connections noticed."""
        ep = self.endpoint
        opts = [
            "-F", "/dev/null",
            "-p", str(ep.port),
            "-l", ep.user,
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={ep.known_hosts}",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "UpdateHostKeys=no",
            "-o", f"ConnectTimeout={max(1, round(ep.connect_timeout))}",
            "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=3",
            "-o", "LogLevel=ERROR",
        ]  # fmt: skip
        if ep.identity_file is not None:
            opts += ["-o", "IdentitiesOnly=yes", "-i", str(ep.identity_file)]
        return opts

    def open(self) -> "SshSession":
        """Start the master; a refused key, a failed login or no route raise one-line errors."""
        if self._dir is not None:
            return self
        self._dir = Path(tempfile.mkdtemp(prefix="opsproof-ssh-"))
        argv = [
            self._ssh, *self.options(),
            "-o", "ControlMaster=yes",
            "-o", f"ControlPath={self.control_path}",
            "-o", f"ControlPersist={PERSIST_IDLE}",
            "-N", self.endpoint.host,
        ]  # fmt: skip
        try:
            # ControlPersist: the client forks the master into the background once logged
            # in and exits; its exit status says whether the login worked.
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self.endpoint.connect_timeout * 2 + LOCAL_SLACK,
                check=False,
            )
        except subprocess.TimeoutExpired:
            self._forget()
            raise HostUnreachable(
                f"{self.endpoint.name}: unreachable (no login within "
                f"{self.endpoint.connect_timeout * 2 + LOCAL_SLACK:g} s)"
            ) from None
        if done.returncode != 0:
            self._forget()
            raise connection_error(
                self.endpoint.name,
                done.stderr.decode("utf-8", "replace"),
                str(self.endpoint.known_hosts),
            )
        return self

    def master_pid(self) -> int | None:
        """The master's PID as ``ssh -O check`` reports it, or None when none runs."""
        done = self._control("check")
        if done is None or done.returncode != 0:
            return None
        words = done.stderr.decode().split("pid=")
        return int(words[1].split(")")[0]) if len(words) > 1 else None

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_output: int = DEFAULT_MAX_OUTPUT,
        sudo: bool | None = None,
        stdout_to: BinaryIO | None = None,
    ) -> CommandResult:
        """Run ``argv`` on the host (as root through ``sudo -n`` when the endpoint or ``sudo``
        says so), ended there after ``timeout`` seconds; stdout and stderr each kept up to
        ``max_output`` bytes. With ``stdout_to`` stdout is written there as it arrives (a file
        copied from the host), not kept; ``truncated`` says it was longer than ``max_output``.
        Raises HostUnreachable when the connection fails or is lost, and the OSError of a
        failed write to ``stdout_to``."""
        if self._dir is None:
            self.open()
        elif not self._master_listens():
            # The master died (connection cut, host rebooted): one new connection, never a
            # silent fresh login per command.
            self._forget()
            self.open()
            self.reconnects += 1
        as_root = self.endpoint.sudo if sudo is None else sudo
        bounded = ["timeout", "-k", f"{KILL_GRACE:g}", f"{timeout:g}", *argv]
        remote = shlex.join(["sudo", "-n", "--", *bounded] if as_root else bounded)
        client = [
            self._ssh, *self.options(),
            "-o", "ControlMaster=no",
            "-o", f"ControlPath={self.control_path}",
            "-T", self.endpoint.host, "--", remote,
        ]  # fmt: skip
        began = time.monotonic()
        proc = subprocess.Popen(
            client, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stderr is not None
        out = BoundedReader(proc.stdout, max_output, stdout_to).start()
        err = BoundedReader(proc.stderr, max_output).start()
        try:
            status = proc.wait(timeout + KILL_GRACE + LOCAL_SLACK)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise HostUnreachable(
                f"{self.endpoint.name}: no answer to {one_command(argv)} within "
                f"{timeout + KILL_GRACE + LOCAL_SLACK:g} s"
            ) from None
        finally:
            stdout, stderr = out.finish(5), err.finish(5)
            proc.stdout.close()
            proc.stderr.close()
        elapsed = time.monotonic() - began
        if out.sink_error is not None:
            raise out.sink_error
        if status == SSH_FAILED:
            raise connection_error(
                self.endpoint.name,
                stderr.decode("utf-8", "replace"),
                str(self.endpoint.known_hosts),
            )
        return CommandResult(
            command=remote,
            exit_status=status,
            stdout=stdout,
            stderr=stderr,
            elapsed=elapsed,
            timed_out=status in (TIMED_OUT, KILLED_AFTER_GRACE) and elapsed >= timeout,
            truncated=out.truncated or err.truncated,
        )

    def close(self) -> None:
        """End the master and remove its private directory; safe to call twice."""
        if self._dir is None:
            return
        self._control("exit")
        self._forget()

    def _master_listens(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.control_path))
            except OSError:
                return False
            return True

    def _control(self, command: str) -> subprocess.CompletedProcess[bytes] | None:
        if self._dir is None:
            return None
        argv = [
            self._ssh, *self.options(), "-o", f"ControlPath={self.control_path}",
            "-O", command, self.endpoint.host,
        ]  # fmt: skip
        try:
            return subprocess.run(
                argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False
            )
        except subprocess.TimeoutExpired:
            return None

    def _forget(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "SshSession":
        return self.open()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def one_command(argv: Sequence[str], limit: int = 80) -> str:
    """``argv`` as a shell would read it, shortened for a message."""
    text = shlex.join(argv)
    return text if len(text) <= limit else text[: limit - 1] + "…"
