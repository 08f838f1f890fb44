"""External programs (pg_dump, pg_restore, redis-check-rdb, ...): found once, run with a deadline.

Failures become a :class:`BackupError` quoting the program's own last words, which say more than
an exit code.
"""

import os
import subprocess
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from opsproof.errors import BackupError
from opsproof.support.programs import find_program, postgres_bin_dir
from opsproof.support.text import one_line

STDERR_LINES = 5


def postgres_tool(name: str) -> str:
    """A PostgreSQL client or server program: the newest ``/usr/lib/postgresql/*/bin`` first
    (Debian keeps server programs off PATH, and a newer pg_restore reads older dumps)."""
    return find_program(name, postgres_bin_dir(), package="postgresql")


def redis_tool(name: str) -> str:
    return find_program(name, package="redis-server")


def last_lines(text: str, count: int = STDERR_LINES) -> str:
    """The last non-empty lines of a program's output, joined on one line for a reason."""
    lines = [line for line in text.splitlines() if line.strip()]
    return one_line(" | ".join(lines[-count:]), 600)


@dataclass(frozen=True)
class Output:
    stdout: str
    stderr: str


def run(
    command: Sequence[str],
    timeout: float,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: Path | None = None,
) -> Output:
    """Run ``command`` to completion within ``timeout`` seconds; what it printed. ``env``
    adds to our environment (a password in PGPASSWORD, never on a command line).

    Raises BackupError naming the program and quoting its stderr when it fails or overruns.
    """
    program = Path(command[0]).name
    try:
        with ExitStack() as files:
            source = files.enter_context(stdin.open("rb")) if stdin else subprocess.DEVNULL
            done = subprocess.run(
                list(command),
                stdin=source,
                capture_output=True,
                timeout=timeout,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                check=False,
            )
    except subprocess.TimeoutExpired:
        raise BackupError(f"{program} did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise BackupError(f"{program} could not be started: {exc}") from None
    output = Output(done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))
    if done.returncode != 0:
        errors = last_lines(output.stderr or output.stdout)
        raise BackupError(f"{program} failed (exit {done.returncode}): {errors}")
    return output
