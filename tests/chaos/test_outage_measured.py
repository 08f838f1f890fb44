"""The outage is observed, from the fault to the service answering again, against a service that
records the truth itself (``fixtures/timed_service.py``: the instant it listens, its heartbeat,
and any pause it lived through). A kill the expectations say the service rides out fails with
the measured outage in its reason.

Correctness with a generous tolerance; the accuracy figures (median and worst error over many
runs) come from ``bench/outage.py``.
"""

import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from opsproof.config.loader import load_environment
from opsproof.faults.experiment import ChaosRun, run_experiment
from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.support.ports import free_ports

SERVICE = Path(__file__).resolve().parents[2] / "fixtures" / "timed_service.py"
TOLERANCE = 0.3
"""Generous on a busy 2-core machine; the bench measures the real error (goal: 100 ms)."""


@dataclass(frozen=True)
class Timed:
    port: int
    state: Path
    marker: str
    command: list[str]

    def listening(self) -> list[float]:
        path = self.state / "listening"
        return [float(line) for line in path.read_text().split()] if path.exists() else []

    def last_beat(self, pid: int) -> float:
        return float((self.state / f"beat-{pid}").read_text())

    def gaps(self) -> list[tuple[float, float]]:
        path = self.state / "gaps"
        lines = path.read_text().splitlines() if path.exists() else []
        return [(float(a), float(b)) for a, b in (line.split() for line in lines)]

    def pids(self) -> list[int]:
        return [
            p.pid
            for p in psutil.process_iter(["cmdline"])
            if self.marker in (p.info["cmdline"] or [])
        ]


@pytest.fixture
def timed(tmp_path: Path) -> Iterator[Callable[[float], Timed]]:
    """``timed(delay)``: the service started and listening; every instance killed afterwards."""
    started: list[Timed] = []

    def start(delay: float) -> Timed:
        marker, port = f"opsproof-timed-{uuid.uuid4().hex[:8]}", free_ports(1)[0]
        state = tmp_path / marker
        state.mkdir()
        command = [sys.executable, str(SERVICE), str(port), str(state), "--delay", str(delay),
                   marker]  # fmt: skip
        service = Timed(port, state, marker, command)
        started.append(service)
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 10 + delay
        while not service.listening():
            assert time.monotonic() < deadline, "the timed service did not start"
            time.sleep(0.02)
        return service

    yield start
    for service in started:
        for pid in service.pids():
            psutil.Process(pid).kill()


def chaos_run(service: Timed, tmp_path: Path, experiment: str) -> ChaosRun:
    start = ", ".join(f'"{part}"' for part in service.command)
    config = tmp_path / "opsproof.yaml"
    config.write_text(
        "version: 1\nenvironments:\n  lab:\n    chaos: allowed\n    services:\n"
        f"      timed:\n        kind: http\n        url: http://127.0.0.1:{service.port}\n"
        "        health: {path: /, timeout: 500ms}\n        timeout: 1s\n"
        f"        runtime: {{process: {{match: {service.marker}, start: [{start}]}}}}\n"
        "    chaos_plan:\n      may_hit: [timed]\n      steady_state: [timed]\n"
        "      recovery: {within: 10s, consecutive: 2, interval: 50ms}\n"
        f"      experiments:\n{experiment}"
    )
    loaded = load_environment(config, "lab")
    return ChaosRun("lab", loaded.environment, tmp_path, Ledger(ledger_path(tmp_path)))


def run_only(run: ChaosRun):  # type: ignore[no-untyped-def]
    assert run.environment.chaos_plan is not None
    (experiment,) = run.environment.chaos_plan.experiments
    result = run_experiment(run, experiment)
    assert not run.ledger.open_faults()
    return result


KILL = """\
        - name: timed killed
          fault: {action: kill, service: timed}
          duration: 0.5s
"""


@pytest.mark.parametrize("delay", [0.5, 2.0])
def test_a_kill_outage_runs_from_the_kill_to_listening_again(
    delay: float, timed: Callable[[float], Timed], tmp_path: Path
) -> None:
    service = timed(delay)
    (old,) = service.pids()
    result = run_only(chaos_run(service, tmp_path, KILL))
    assert result.verdict == "passed", result.reason
    truth = service.listening()[-1] - service.last_beat(old)
    assert result.outage_s is not None and abs(result.outage_s - truth) < TOLERANCE
    assert result.outage_s > delay and result.restored_by == "revert" and result.outages == 1
    assert result.held_s is not None and result.held_s >= 0.5
    # after the revert only the start delay is left: recovery is what users saw minus the hold
    assert result.recovery_s is not None and result.recovery_s < result.outage_s - 0.4
    assert result.time_to_impact_s is not None and result.time_to_impact_s < result.held_s
    # a kill acts at once: from the injection, or the last pass while the kill was landing
    assert result.outage_offset_s is not None and result.injected_offset_s is not None
    landing = result.outage_offset_s - result.injected_offset_s
    assert 0 <= landing <= result.time_to_impact_s


def test_a_pause_outage_is_the_pause(timed: Callable[[float], Timed], tmp_path: Path) -> None:
    """Longer than the health check's timeout (a shorter freeze is a slow answer, recorded as
    ``steady_state_slowest_s``, not an outage)."""
    service = timed(0.0)
    pause = KILL.replace("kill", "pause").replace("0.5s", "1.5s")
    result = run_only(chaos_run(service, tmp_path, pause))
    assert result.verdict == "passed", result.reason
    ((frozen, thawed),) = service.gaps()
    assert result.outage_s is not None and abs(result.outage_s - (thawed - frozen)) < TOLERANCE
    assert result.held_s is not None and abs(result.outage_s - result.held_s) < TOLERANCE
    assert result.restored_by == "revert"
    slowest = result.figures["steady_state_slowest_s"].value
    assert isinstance(slowest, float) and 0.45 < slowest < 1.0  # the health check's timeout


def test_a_kill_the_service_should_ride_out_fails_naming_the_outage(
    timed: Callable[[float], Timed], tmp_path: Path
) -> None:
    service = timed(0.5)
    keeps_answering = KILL + (
        "          expect:\n"
        "            - {service: timed, request: {path: /}, expect: {status: 200}, within: 1s}\n"
    )
    result = run_only(chaos_run(service, tmp_path, keeps_answering))
    assert result.verdict == "failed"
    assert result.outage_s is not None and result.outage_s > 0.5
    said = re.search(r"an outage of (\d+\.\d\d) s \(from 0\.\d\d s after the injection\), "
                     r"which the expectations do not allow \(an expectation says timed keeps "
                     r"answering\)", result.reason)  # fmt: skip
    # The words round the measured duration once; the figure keeps four places (1.74496 is
    # said 1.74 and recorded 1.745), so they agree to the words' precision.
    assert said is not None and abs(float(said[1]) - result.outage_s) <= 0.0051, result.reason
    assert result.figures["outage_s"].target == "== 0"
    assert "no outage (an expectation says timed keeps answering)" in result.hypothesis


def test_nothing_injected_reports_no_impact_outage_or_recovery(
    timed: Callable[[float], Timed], tmp_path: Path
) -> None:
    service = timed(0.0)
    run = chaos_run(service, tmp_path, KILL)
    for pid in service.pids():
        psutil.Process(pid).kill()
    deadline = time.monotonic() + 5
    while _listening(service.port):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert run.environment.chaos_plan is not None
    result = run_experiment(run, run.environment.chaos_plan.experiments[0])
    assert result.verdict == "not_injected"
    assert result.injected_at is None and result.outage_s is None and result.recovery_s is None
    assert result.time_to_impact_s is None and result.restored_by is None
    assert set(result.figures) == {"steady_state_before"}


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True
