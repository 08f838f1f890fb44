"""A new PostgreSQL cluster: the scratch servers restores are verified on, and the reference
stack's own database, are both made by ``initdb`` this way."""

import os
import subprocess
from pathlib import Path

from opsproof.errors import BackupError
from opsproof.support.processes import os_identity

OS_USER = "postgres"
"""The OS user a cluster runs as when we are root (PostgreSQL refuses to run as root)."""


def initdb(
    data_dir: Path, socket_dir: Path, bin_dir: Path, os_user: str, log_file: Path, timeout: float
) -> None:
    """Create ``data_dir`` and the Unix ``socket_dir``, and initialise the cluster as
    ``os_user`` (when we are root). Local socket connections are trusted (the socket directory
    is private to the server's user), TCP ones need a SCRAM password."""
    uid, gid = os_identity("postgres", os_user)
    for directory in (data_dir, socket_dir):
        directory.mkdir(parents=True, mode=0o700)
        if uid is not None and gid is not None:
            os.chown(directory, uid, gid)
    command = [
        str(bin_dir / "initdb"),
        *("-D", str(data_dir), "-U", "postgres"),
        *("--auth-local=trust", "--auth-host=scram-sha-256"),
        *("-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"),
    ]
    with log_file.open("ab") as log:
        try:
            subprocess.run(
                command,
                cwd=data_dir.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=True,
                user=uid,
                group=gid,
                extra_groups=[] if uid is not None else None,
            )
        except subprocess.TimeoutExpired:
            raise BackupError(f"postgres: initdb took longer than {timeout:.0f} s") from None
        except subprocess.CalledProcessError as exc:
            raise BackupError(f"postgres: initdb failed with exit code {exc.returncode}") from None
