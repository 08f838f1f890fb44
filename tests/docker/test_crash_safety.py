"""Container faults as transactions: reverted when the block fails, and by the watchdog when
the run itself dies (SIGKILL, no chance to clean up)."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from docker.models.containers import Container

from opsproof.config.models import ProcessFaultSpec
from opsproof.faults.container_faults import docker_fault
from opsproof.faults.ledger import Ledger
from opsproof.faults.transaction import injected
from opsproof.runtimes.docker import DockerRuntime, DockerTarget

WATCHDOG_TIMEOUT = 30.0

CRASHING_RUN = """
import os, signal, sys
from pathlib import Path
from opsproof.config.models import ProcessFault
from opsproof.faults.ledger import Ledger
from opsproof.faults.transaction import injected
from opsproof.faults.watchdog import start_watchdog
from opsproof.runtimes.docker import DockerTarget
from opsproof.faults.container_faults import docker_fault

ledger, container, action = Ledger(Path(sys.argv[1])), sys.argv[2], sys.argv[3]
start_watchdog(ledger, os.getpid())
spec = ProcessFault(action=action, service="sleeper")
fault = docker_fault(spec, DockerTarget(name="sleeper", container=container), "crash", 300)
with injected(fault, ledger, "crash-" + action, "crash test", lifetime=300):
    print("injected", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("action", ["pause", "kill"])
def test_a_failing_block_still_reverts(
    sleeper_runtime: DockerRuntime, sleeper: Container, tmp_path: Path, action: str
) -> None:
    target = DockerTarget(name="sleeper", container=str(sleeper.name))
    fault = docker_fault(ProcessFaultSpec(action=action, service="sleeper"), target, action, 60)
    ledger = Ledger(tmp_path / "ledger.jsonl")
    with pytest.raises(RuntimeError), injected(fault, ledger, action, "failing block", 60):
        assert fault.effect().ok
        raise RuntimeError("the experiment failed")
    assert sleeper_runtime.state().ready
    assert not ledger.open_faults()


@pytest.mark.parametrize("action", ["pause", "kill"])
def test_the_watchdog_reverts_after_the_run_is_killed(
    sleeper_runtime: DockerRuntime, sleeper: Container, tmp_path: Path, action: str
) -> None:
    ledger_file = tmp_path / "ledger.jsonl"
    run = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, str(ledger_file), str(sleeper.name), action],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert "injected" in run.stdout
    deadline = time.monotonic() + WATCHDOG_TIMEOUT
    while Ledger(ledger_file).open_faults() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Ledger(ledger_file).open_faults(), "the watchdog did not revert the fault"
    assert sleeper_runtime.state().ready
