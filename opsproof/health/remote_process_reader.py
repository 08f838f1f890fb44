"""Runtime health of processes on a declared host (``runtime: {process: {host: ...}}``), read
in one SSH round trip by a Perl program on the host: the runtime's own finder, then each
process's state, RSS, start time, open files against its soft limit, and CPU time over the
window, timed on the host's clock (/proc/uptime) so no SSH latency is in the CPU figure."""

from datetime import UTC, datetime

from opsproof.errors import HostError
from opsproof.health.reading import HealthReading, OpenFiles, worst_open_files
from opsproof.runtimes.remote_process import FINDER, RemoteProcessRuntime, found_args

READ_TIMEOUT = 20.0
"""For the whole round trip, CPU window included (at most 10 s)."""
SHARED_CGROUP = (
    "a process on a host lives in its login session's or a unit's cgroup, shared with others: "
    "an OOM kill there is not its own; declare the unit (runtime: systemd) for its own counter"
)
HEALTH = (
    FINDER
    + r"""
my ($how, $hex, $window) = @ARGV;
sub stat_of {
    open my $s, "<", "/proc/$_[0]/stat" or return ();
    return split / /, ((<$s> // "") =~ /\) (.*)/)[0] // "";
}
sub uptime { open my $u, "<", "/proc/uptime" or return 0; return (split / /, <$u> // "0")[0] }
my @pids = found($how, $hex);
my %cpu0; my $t0 = uptime();
for (@pids) { my @f = stat_of($_); $cpu0{$_} = $f[11] + $f[12] if @f }
select(undef, undef, undef, $window) if $window > 0;
printf "window %.2f\n", uptime() - $t0;
my $btime = 0;
if (open my $st, "<", "/proc/stat") { for (<$st>) { $btime = $1 if /^btime (\d+)/ } }
for my $pid (@pids) {
    my @f = stat_of($pid);
    next if !@f || $f[0] eq "Z";
    open my $m, "<", "/proc/$pid/status" or next;
    my ($rss) = join("", <$m>) =~ /^VmRSS:\s+(\d+)/m;
    my $fds = -1;
    if (opendir my $d, "/proc/$pid/fd") { $fds = grep { !/^\./ } readdir $d }
    my $soft = "unlimited";
    if (open my $l, "<", "/proc/$pid/limits") {
        for (<$l>) { $soft = $1 if /^Max open files\s+(\S+)/ }
    }
    my $used = exists $cpu0{$pid} ? ($f[11] + $f[12] - $cpu0{$pid}) / 100 : 0;
    printf "%d %s %d %.2f %.2f %d %s\n",
        $pid, $f[0], ($rss // 0) * 1024, $btime + $f[19] / 100, $used, $fds, $soft;
}
"""
)
"""Prints ``window <seconds>``, then per live process ``pid state rss_bytes started_epoch
cpu_seconds_in_window open_fds soft_limit`` (``open_fds`` -1: not readable as this user).
Start times are the boot time plus /proc's start ticks (USER_HZ, fixed at 100): a restart
shows as a new PID or start time, as for local processes."""


def read_remote_process_health(
    runtime: RemoteProcessRuntime, cpu_window: float | None
) -> HealthReading:
    """The service's processes on its host now (one command)."""
    window = f"{cpu_window:.3f}" if cpu_window else "0"
    argv = ["perl", "-e", HEALTH, *found_args(runtime.target), window]
    try:
        done = runtime.session.run(argv, timeout=READ_TIMEOUT)
    except HostError as error:
        return HealthReading(runtime.id, running=False, state=f"cannot reach the host: {error}")
    if not done.ok:
        why = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.exit_status}"
        return HealthReading(runtime.id, running=False, state=f"reading /proc failed: {why}")
    return parse_health(runtime.id, done.text(), windowed=bool(cpu_window))


def parse_health(runtime_id: str, text: str, *, windowed: bool) -> HealthReading:
    """The reading from the program's output."""
    lines = text.splitlines()
    header = lines[0].split() if lines else []
    elapsed = float(header[1]) if len(header) == 2 and header[0] == "window" else 0.0
    rows = [line.split() for line in lines[1:] if len(line.split()) == 7]
    if not rows:
        return HealthReading(runtime_id, running=False, state="no process found")
    pids = [row[0] for row in rows]
    stopped = [row[0] for row in rows if row[1] == "T"]
    started = [
        f"PID {row[0]} started "
        + datetime.fromtimestamp(float(row[3]), UTC).isoformat(timespec="seconds")
        for row in rows
    ]
    files = [
        OpenFiles(int(row[0]), int(row[5]), int(row[6]) if row[6].isdigit() else 0)
        for row in rows
        if row[5] != "-1"
    ]
    unread: dict[str, str] = {}
    if denied := [row[0] for row in rows if row[5] == "-1"]:
        unread["open_files"] = (
            f"no permission to read /proc/{denied[0]}/fd; set ssh.sudo: true on the host"
        )
    cores = None
    if windowed:
        if elapsed > 0:
            cores = round(sum(float(row[4]) for row in rows) / elapsed, 3)
        else:
            unread["cpu_cores"] = "the host's /proc/uptime gave no window to measure CPU over"
    return HealthReading(
        runtime_id,
        running=True,
        state=f"running as PID {', '.join(pids)}",
        trouble=f"PID {', '.join(stopped)} stopped (SIGSTOP): it does no work" if stopped else "",
        identity=", ".join(started),
        memory_bytes=sum(int(row[2]) for row in rows),
        cpu_cores=cores,
        open_files=worst_open_files(files),
        unread=unread,
        absent={"oom_kills": SHARED_CGROUP},
    )
