"""No fault without a way back (issue #12): a plan whose fault could not be undone, that hits a
service outside ``may_hit`` or acts on a service without a runtime is refused before anything
runs — by the suite, by ``opsproof run chaos`` and by their dry runs — with the file, line,
key and fix, printed once; nothing is injected, the ledger stays empty, and the service (a
redis-server of the test's own, declared as a user would) keeps running."""

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import redis

from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.support.ports import free_ports

CHAOS = Path(__file__).resolve().parents[2] / "chaos"
REFUSED = pytest.ExitCode.USAGE_ERROR
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class ForeignRedis:
    """A redis-server started by hand, with a config file of its own, as on a user's host."""

    port: int
    conf: Path

    @property
    def match(self) -> str:
        """What redis-server shows as its command line (it replaces its arguments)."""
        return f"redis-server 127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        found = []
        for proc in psutil.process_iter(["cmdline", "status"]):
            if proc.info["status"] != psutil.STATUS_ZOMBIE and self.match in " ".join(
                proc.info["cmdline"] or []
            ):
                found.append(proc.pid)
        return found

    def answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def wait_answers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.answers():
            assert time.monotonic() < deadline, f"{self.match} not answering after {timeout} s"
            time.sleep(0.05)


@pytest.fixture
def foreign_redis(tmp_path: Path) -> Iterator[ForeignRedis]:
    (port,) = free_ports(1)
    data = tmp_path / "redis-data"
    data.mkdir()
    conf = tmp_path / "redis.conf"
    conf.write_text(f'port {port}\nbind 127.0.0.1\ndir {data}\nsave ""\nappendonly no\n')
    server = ForeignRedis(port, conf)
    proc = subprocess.Popen(
        ["redis-server", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        server.wait_answers(START_TIMEOUT)
        yield server
    finally:
        # a revert may have started another one; every server on this port goes
        for pid in server.pids():
            psutil.Process(pid).kill()
        proc.wait(timeout=10)
        psutil.wait_procs([psutil.Process(p) for p in server.pids()], timeout=10)


def write_config(
    path: Path, server: ForeignRedis, *, process: str | None = None, plan: str = ""
) -> Path:
    """Environment ``lab``: the foreign redis as a process-runtime service (``process``, with
    MATCH and CONF filled in) and a chaos plan (default: kill it)."""
    runtime = '{match: "MATCH"}' if process is None else process
    runtime = runtime.replace("MATCH", server.match).replace("CONF", str(server.conf))
    body = f"""\
version: 1
environments:
  lab:
    chaos: allowed
    services:
      redis:
        kind: redis
        url: redis://127.0.0.1:{server.port}/0
        timeout: 1s
        runtime:
          process: {runtime}
    chaos_plan:
{plan or KILL}"""
    path.write_text(body)
    return path


KILL = """\
      may_hit: [redis]
      recovery: {within: 10s, consecutive: 3, interval: 50ms}
      experiments:
        - name: redis killed
          fault: {action: kill, service: redis}
"""


def where(config: Path, text: str, column_of: str) -> str:
    """``file:line:column`` of the first line holding ``text``, at ``column_of`` in it."""
    for number, line in enumerate(config.read_text().splitlines(), 1):
        if text in line:
            return f"{config}:{number}:{line.index(column_of) + 1}"
    raise AssertionError(f"{text!r} not in {config}")


def suite(config: Path, state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "pytest", str(CHAOS), "--env", "lab", "--config", str(config),
        "--stack-state-dir", str(state_dir), "--no-evidence", "-p", "no:cacheprovider", "-rs",
        *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def opsproof_run(
    config: Path, state_dir: Path, reports: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "opsproof.cli", "run", "chaos", "--env", "lab",
        "--config", str(config), "--state-dir", str(state_dir), "--reports-dir", str(reports),
        "--", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def assert_untouched(server: ForeignRedis, pids: list[int], state_dir: Path) -> None:
    assert server.pids() == pids and server.answers(), "the service was touched"
    ledger = ledger_path(state_dir)
    assert not ledger.exists() or not Ledger(ledger).records(), "something was injected"


@pytest.mark.parametrize(
    "how", ["suite", "suite --dry-run", "opsproof run", "opsproof run -- --dry-run"]
)
def test_a_kill_without_a_start_command_is_refused_before_anything_runs(
    how: str, foreign_redis: ForeignRedis, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "opsproof.yaml", foreign_redis)
    state_dir, pids = tmp_path / "state", foreign_redis.pids()
    dry = ("--dry-run",) if how.endswith("--dry-run") else ()
    if how.startswith("suite"):
        done = suite(config, state_dir, *dry)
    else:
        done = opsproof_run(config, state_dir, tmp_path / "runs", *dry)
    output = done.stdout + done.stderr
    assert done.returncode == REFUSED, output
    problem = (
        f"{where(config, 'process:', '{match')}: environments.lab.services.redis.runtime.process: "
        "experiment 'redis killed' kills process://redis, and nothing could start it again: "
        "no start command declared; add start: [program, arg, ...] here"
    )
    assert problem in output
    assert output.count("nothing could start it again") == 1, output  # printed once
    assert "During handling" not in output and "Traceback" not in output, output
    assert "undo:" not in output  # no plan was printed as if it could run
    assert_untouched(foreign_redis, pids, state_dir)
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir()), "a refused run entered the history"


def test_with_a_start_command_the_same_kill_runs_and_is_undone(
    foreign_redis: ForeignRedis, tmp_path: Path
) -> None:
    process = '{match: "MATCH", start: [redis-server, "CONF"]}'
    config = write_config(tmp_path / "opsproof.yaml", foreign_redis, process=process)
    state_dir, before = tmp_path / "state", foreign_redis.pids()
    dry = suite(config, state_dir, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "undo: start process://redis" in dry.stdout
    assert_untouched(foreign_redis, before, state_dir)

    done = suite(config, state_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    foreign_redis.wait_answers(START_TIMEOUT)
    after = foreign_redis.pids()
    assert after and not set(after) & set(before), "not killed and started again"
    assert not Ledger(ledger_path(state_dir)).open_faults()


OUTSIDE_MAY_HIT = KILL.replace("may_hit: [redis]", "may_hit: []")
MAY_HIT_TYPO = KILL.replace("may_hit: [redis]", "may_hit: [rediss]")
EXPECT_NOT_HTTP = (
    KILL
    + """\
          expect:
            - service: redis
              request: {method: GET, path: /health}
              expect: {status: 503}
"""
)
LOAD_NOT_ALLOWED = KILL + "          load: {profile: missing.yaml}\n"
DISK_NOT_A_DIRECTORY = KILL.replace(
    "{action: kill, service: redis}",
    "{action: disk_fill, service: redis, path: /nonexistent/opsproof, size: 1MiB}",
)


@pytest.mark.parametrize(
    ("process", "plan", "key", "message"),
    [
        pytest.param(
            None, OUTSIDE_MAY_HIT, ("fault: {action", "redis}"),
            "chaos_plan.experiments[0].fault.service: refused: experiment 'redis killed' would "
            "hit 'redis', which is not in environments.lab.chaos_plan.may_hit (empty); add it "
            "there", id="fault outside may_hit",
        ),
        pytest.param(
            None, MAY_HIT_TYPO, ("may_hit:", "rediss"),
            "chaos_plan.may_hit[0]: 'rediss' is not a service here; did you mean 'redis'?",
            id="may_hit names no service",
        ),
        pytest.param(
            "", KILL, ("redis:", "redis"),
            "services.redis: experiment 'redis killed' acts on 'redis', which declares no "
            "runtime, so opsproof could neither kill it nor undo that; add runtime:",
            id="no runtime",
        ),
        pytest.param(
            '{match: "MATCH", start: [/nonexistent/redis-server]}', KILL, ("process:", "[/"),
            "services.redis.runtime.process.start: experiment 'redis killed' kills "
            "process://redis, and its start command could not run: '/nonexistent/redis-server' "
            "is not an executable file or on PATH; write the program's full path",
            id="start program missing",
        ),
        pytest.param(
            "{component: redis}", KILL, ("process:", "redis}"),
            "services.redis.runtime.process.component: experiment 'redis killed' kills "
            "process://redis, and it is started again from the reference stack's record, but "
            "no stack is recorded in", id="component without a reference stack",
        ),
        pytest.param(
            None, EXPECT_NOT_HTTP, ("- service: redis", "redis"),
            "chaos_plan.experiments[0].expect[0].service: 'redis' is a redis service; an "
            "expectation asks an http service (http services: none declared)",
            id="expectation asks a redis service",
        ),
        pytest.param(
            None, LOAD_NOT_ALLOWED, ("load: {profile", "load"),
            "chaos_plan.experiments[0].load: refused: experiment 'redis killed' sends background "
            "load, and environment 'lab' does not allow load (environments.lab.load is "
            "'forbidden'); set environments.lab.load: allowed to opt in",
            id="background load not allowed",
        ),
        pytest.param(
            None, DISK_NOT_A_DIRECTORY, ("disk_fill", "/nonexistent"),
            "chaos_plan.experiments[0].fault.path: /nonexistent/opsproof is not a directory and "
            "experiment 'redis killed' fills it", id="disk fill of no directory",
        ),
    ],
)  # fmt: skip
def test_a_plan_that_could_not_run_or_be_undone_is_refused_up_front(
    process: str | None,
    plan: str,
    key: tuple[str, str],
    message: str,
    foreign_redis: ForeignRedis,
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "opsproof.yaml", foreign_redis, process=process, plan=plan)
    if process == "":  # the service declares no runtime at all
        config.write_text(config.read_text().replace("        runtime:\n          process: \n", ""))
    state_dir, pids = tmp_path / "state", foreign_redis.pids()
    done = suite(config, state_dir)  # the real run, not a dry run
    output = done.stdout + done.stderr
    assert done.returncode == REFUSED, output
    assert f"{where(config, *key)}: environments.lab.{message}" in output
    assert output.count(message) == 1 and "During handling" not in output, output
    assert_untouched(foreign_redis, pids, state_dir)


def test_an_unwritable_ledger_is_refused_up_front(
    foreign_redis: ForeignRedis, tmp_path: Path
) -> None:
    process = '{match: "MATCH", start: [redis-server, "CONF"]}'
    config = write_config(tmp_path / "opsproof.yaml", foreign_redis, process=process)
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("")
    state_dir, pids = not_a_directory / "state", foreign_redis.pids()
    done = suite(config, state_dir, "--dry-run")
    output = done.stdout + done.stderr
    assert done.returncode == REFUSED, output
    assert (
        f"{where(config, 'chaos_plan:', 'chaos_plan')}: environments.lab.chaos_plan: the fault "
        f"ledger {ledger_path(state_dir)} cannot be written" in output
    )
    assert_untouched(foreign_redis, pids, state_dir)
