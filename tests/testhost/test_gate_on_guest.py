"""The shipped examples/testhost.yaml, run as a user runs it: ``eval "$(opsproof testhost
status --shell)"`` then ``opsproof run gate``; the gate passes against the guest."""

from pathlib import Path

from opsproof.testhost.machine import GuestState
from tests.testhost.example import run_example


def test_the_example_gate_passes_against_the_guest(guest: GuestState, tmp_path: Path) -> None:
    done = run_example("gate", guest, tmp_path)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    [summary] = tmp_path.glob("*-gate-testhost/summary.md")
    text = summary.read_text()
    assert guest.ssh_url in text
    for unit in ("redis-server.service", "postgresql@15-main.service"):
        [item] = [
            line for line in text.splitlines() if "test_runtime_health[" in line and unit in line
        ]
        assert item.startswith("| ✅"), item
