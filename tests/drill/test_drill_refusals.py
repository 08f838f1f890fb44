"""What the drill refuses before it touches anything, each in one line: a production
environment without the confirmation, a filesystem without room for a restore beside the
original data; and a dry run, which prints the plan and touches nothing."""

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsproof.faults.ledger import ledger_path
from tests.drill.foreign import Foreign, run_dr
from tests.project import PROJECT_ROOT

RUN_TIMEOUT = 180.0


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=PROJECT_ROOT,
        check=False,
    )  # fmt: skip


def _untouched(foreign: Foreign) -> None:
    assert foreign.healthy()
    assert not foreign.store.exists() or not any(foreign.store.iterdir())
    assert not ledger_path(foreign.state_dir).exists()


def test_a_production_environment_needs_the_confirmation(foreign: Foreign) -> None:
    done = _run(run_dr(foreign, foreign.config(extra="production: true")))
    assert done.returncode == 1, done.stdout[-3000:]
    assert (
        "drill refused: environment 'foreign' is marked production: add "
        "--i-understand-this-is-production to run the DR drill against it"
    ) in done.stdout
    _untouched(foreign)


def test_a_dry_run_prints_the_plan_and_touches_nothing(foreign: Foreign) -> None:
    command = run_dr(foreign, foreign.config(extra="production: true"))
    done = _run([*command, "--dry-run", "--i-understand-this-is-production"])
    assert (
        "opsproof: drill on foreign: lose and restore cache (redis, cache), db (postgres, db)"
        in (done.stdout)
    ), done.stdout[-3000:]
    assert "opsproof: 4. stop app, then the stores; move each data directory aside" in done.stdout
    _untouched(foreign)


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs: a real filesystem that runs out of room."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_filesystem_without_room_for_the_restore_is_refused(
    foreign: Foreign, small_filesystem: Path
) -> None:
    data = small_filesystem / "redis"
    data.mkdir()
    (data / "dump.rdb").write_bytes(os.urandom(3 << 20))  # no room for a second copy
    done = _run(run_dr(foreign, foreign.config(cache=f"{{service: cache, data_dir: {data}}}")))
    assert done.returncode == 1, done.stdout[-3000:]
    refusal = (
        rf"DR drill failed: preconditions: cache: {data} has 1\.0 MiB free, but a restore beside "
        r"the original data needs 3\.3 MiB; free space on that filesystem \(nothing was stopped "
        r"or moved\)"
    )
    assert re.search(refusal, done.stdout), done.stdout[-3000:]
    _untouched(foreign)
