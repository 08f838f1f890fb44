"""A runtime's command on a declared host, over the run's SSH session: a failure is the
runtime's, named by its id and the command."""

import shlex

from opsproof.errors import StackError
from opsproof.support.text import one_line
from opsproof.transport.ssh import CommandResult, SshSession

COMMAND_TIMEOUT = 30.0


def run_on_host(
    session: SshSession,
    owner: str,
    argv: list[str],
    *,
    sudo: bool | None,
    check: bool = True,
    timeout: float = COMMAND_TIMEOUT,
) -> CommandResult:
    """``argv`` on the host (as root through ``sudo -n`` when ``sudo`` says so, or, with None,
    when the host's ``ssh.sudo`` does); with ``check`` a failure raises StackError naming
    ``owner`` and the command (a long script cut short)."""
    done = session.run(argv, timeout=timeout, sudo=sudo)
    if check and not done.ok:
        raise StackError(f"{owner}: {one_line(shlex.join(argv), 120)} failed: {done.why()}")
    return done
