"""The process runtime on a host under ``hosts:``: processes found by PID file or command-line
match in the host's /proc, signalled and started again over the run's SSH session.

The finding runs as one Perl program on the host (``perl-base`` is essential in Debian, so it
is there wherever the unit faults' stressors are): it reads /proc itself, so neither ``ps`` nor
``pgrep`` is needed, and it leaves out its own ancestors (``sudo``, ``timeout``, the login
shell), whose command lines carry the match text as an argument. Signals and the start command
run through ``sudo -n`` when the host's ``ssh.sudo`` says so, as the process's owner would need.
"""

import shlex
import signal
import subprocess
from collections.abc import Sequence

from opsproof.errors import StackError
from opsproof.runtimes.base import Resources
from opsproof.runtimes.on_host import run_on_host
from opsproof.runtimes.process import SIGNAL_TIMEOUT, ProcessTarget
from opsproof.support.waiting import poll_until
from opsproof.transport.pool import SESSIONS
from opsproof.transport.ssh import CommandResult, SshSession

STATUS_NAMES = {
    "R": "running", "S": "sleeping", "D": "disk-sleep", "T": "stopped", "t": "tracing-stop",
    "Z": "zombie", "X": "dead", "I": "idle", "W": "waking", "P": "parked",
}  # fmt: skip
"""/proc's state letters in psutil's words, so reports read the same for either runtime."""
FINDER = r"""
sub found {
my ($how, $hex) = @_;
my $what = pack "H*", $hex;
my %ours; my $p = $$;
while ($p > 1 && !$ours{$p}) {
    $ours{$p} = 1;
    open my $s, "<", "/proc/$p/stat" or last;
    (<$s> // "") =~ /\) \S+ (\d+)/ or last; $p = $1;
}
my @pids;
if ($how eq "pid_file") {
    open my $f, "<", $what or return ();
    @pids = ((<$f> // "") =~ /^\s*(\d+)/);
} else {
    opendir my $d, "/proc" or die "no /proc";
    for my $pid (grep { /^\d+$/ && !$ours{$_} } readdir $d) {
        open my $c, "<", "/proc/$pid/cmdline" or next;
        local $/; my $cmd = <$c> // ""; $cmd =~ tr/\0/ /; $cmd =~ s/ $//;
        push @pids, $pid if length $cmd && index($cmd, $what) >= 0;
    }
}
return @pids;
}
"""
"""A Perl sub, ``found(how, hex)``: the PIDs of the PID file or of the processes whose command
line holds the match text, the finder's own ancestors left out. The match text arrives
hex-encoded, so no finder's command line (a concurrent one's, its ``timeout``'s) contains it:
only the processes sought do."""
FIND = (
    FINDER
    + r"""
for my $pid (found(@ARGV)) {
    open my $s, "<", "/proc/$pid/stat" or next;
    my @f = split / /, ((<$s> // "") =~ /\) (.*)/)[0] // "";
    next if !@f || $f[0] eq "Z";
    open my $m, "<", "/proc/$pid/status" or next;
    my ($rss) = join("", <$m>) =~ /^VmRSS:\s+(\d+)/m;
    printf "%d %s %d %.3f\n", $pid, $f[0], ($rss // 0) * 1024, ($f[11] + $f[12]) / 100;
}
"""
)
"""Prints ``pid state rss_bytes cpu_seconds`` for each live process found (zombies left out).
No ``use POSIX`` (loading it takes seconds on a small host): RSS from VmRSS, CPU time in
USER_HZ, which the kernel fixes at 100 for /proc."""


class RemoteProcessRuntime:
    """Implements :class:`opsproof.runtimes.base.Runtime` for processes on a declared host."""

    def __init__(self, target: ProcessTarget, session: SshSession | None = None) -> None:
        if target.host is None:
            raise ValueError(f"process://{target.name} declares no host")
        self.target = target
        self.host = target.host
        self._session = session

    @property
    def session(self) -> SshSession:
        """The process's one session to the host, opened on first use."""
        if self._session is None:
            self._session = SESSIONS.session(self.host)
        return self._session

    @property
    def id(self) -> str:
        return f"process://{self.host.url.removeprefix('ssh://')}/{self.target.name}"

    def _table(self) -> list[tuple[int, str, int, float]]:
        # /proc and PID files are readable without sudo, which costs a second or more per call
        done = self.run(find_argv(self.target), sudo=False)
        rows = []
        for line in done.text().splitlines():
            pid, state, rss, cpu = line.split()
            rows.append((int(pid), state, int(rss), float(cpu)))
        return rows

    def find(self) -> list[int]:
        return [row[0] for row in self._table()]

    def states(self) -> dict[int, str]:
        """Each process's state letter as /proc shows it (``T``: stopped)."""
        return {row[0]: row[1] for row in self._table()}

    def observe(self) -> tuple[dict[int, str], Resources]:
        """Each process's state in psutil's words (``sleeping``, ``stopped``, ...) and their
        resources, in one round trip."""
        rows = self._table()
        named = {row[0]: STATUS_NAMES.get(row[1], "unknown") for row in rows}
        return named, _resources(rows)

    def stopped(self, pids: list[int]) -> list[int]:
        """Those of ``pids`` that are stopped (SIGSTOP) now."""
        states = self.states()
        return [pid for pid in pids if states.get(pid) == "T"]

    def signal(self, sig: signal.Signals, pids: Sequence[int] | None = None) -> None:
        """Send ``sig`` to the processes (those found now unless given); gone ones ignored."""
        found = list(self.find() if pids is None else pids)
        if found:
            argv = ["kill", "-s", sig.name.removeprefix("SIG"), *map(str, found)]
            self.run(argv, check=False)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self._wait_gone(10.0)

    def stop(self, timeout: float) -> None:
        self.signal(signal.SIGCONT)  # a paused process cannot act on SIGTERM
        self.signal(signal.SIGTERM)
        if not self._wait_gone(timeout * 0.6):
            self.kill()

    def start(self, timeout: float) -> None:
        """The declared start command, detached on the host (``setsid -f``) so it outlives the
        SSH command, unless the process already runs; waits until it is found."""
        if self.find():
            return
        start = self.target.spec.start
        if not start:
            raise StackError(
                f"{self.id}: no start command declared; add runtime.process.start to the config"
            )
        script = f"exec {shlex.join(start)} </dev/null >/dev/null 2>&1"
        self.run(["setsid", "-f", "sh", "-c", script])
        if not poll_until(lambda: bool(self.find()), timeout):
            raise StackError(f"{self.id}: not running {timeout:g} s after {shlex.join(start)}")

    def restart(self, timeout: float) -> None:
        self.stop(timeout / 2)
        self.start(timeout / 2)

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)
        self._wait_status(stopped=True)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)
        self._wait_status(stopped=False)

    def _wait_status(self, *, stopped: bool) -> None:
        def settled() -> bool:
            return all((state == "T") == stopped for state in self.states().values())

        if not poll_until(settled, SIGNAL_TIMEOUT):
            raise StackError(f"{self.id}: not {'stopped' if stopped else 'resumed'} in time")

    def exec(self, argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` on the host (as the host's ``ssh.sudo`` says), not in the process's
        working directory or environment, which are not known there."""
        done = self.session.run(argv, timeout=timeout)
        return subprocess.CompletedProcess(
            list(argv),
            done.exit_status,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )

    def resources(self) -> Resources:
        return _resources(self._table())

    def _wait_gone(self, timeout: float) -> bool:
        return poll_until(lambda: not self.find(), timeout)

    def run(
        self, argv: list[str], *, sudo: bool | None = None, check: bool = True
    ) -> CommandResult:
        """``argv`` on the host; a failure raises StackError naming the process and command."""
        return run_on_host(self.session, self.id, argv, sudo=sudo, check=check)


def _resources(rows: list[tuple[int, str, int, float]]) -> Resources:
    return Resources(
        tuple(row[0] for row in rows),
        sum(row[2] for row in rows),
        round(sum(row[3] for row in rows), 3),
    )


def find_argv(target: ProcessTarget) -> list[str]:
    """The finder's command line for ``target``."""
    return ["perl", "-e", FIND, *found_args(target)]


def found_args(target: ProcessTarget) -> list[str]:
    """``found``'s arguments for ``target``: how to look, and the match text or PID file
    hex-encoded."""
    spec = target.spec
    how, what = ("pid_file", str(spec.pid_file)) if spec.pid_file else ("match", spec.match)
    return [how, (what or "").encode().hex()]
