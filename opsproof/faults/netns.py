"""nftables inside another network namespace: this machine's ``nft`` run through
``nsenter --net`` into the namespace of a process (a container's first process). The namespace
is named by its inode as well as the PID, so a later undo never acts on a PID that was reused
for a process of another namespace."""

import shutil
import subprocess
from pathlib import Path

from opsproof.errors import SafetyError
from opsproof.faults import nft

NSENTER_TIMEOUT = 10.0


def identity(pid: int) -> str:
    """The namespace's identity (``net:[4026532…]``); empty when the process is gone."""
    try:
        return str(Path(f"/proc/{pid}/ns/net").readlink())
    except OSError:
        return ""


def run(pid: int, args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``nft ARGS`` in the network namespace of ``pid``."""
    nsenter, program = shutil.which("nsenter"), shutil.which("nft")
    if nsenter is None or program is None:
        raise SafetyError("nsenter (util-linux) and nft (nftables) are needed on this machine")
    argv = [nsenter, f"--target={pid}", "--net", "--", program, *args]
    return subprocess.run(
        argv, input=stdin, capture_output=True, text=True, timeout=NSENTER_TIMEOUT
    )


def load(pid: int, ruleset: str) -> None:
    done = run(pid, ["-f", "-"], ruleset)
    if done.returncode != 0:
        raise SafetyError(f"nft refused the fault's rules: {done.stderr.strip()}")


def delete(pid: int, namespace: str, table: str) -> None:
    """Delete the table if that namespace still exists (gone with it otherwise)."""
    if identity(pid) != namespace:
        return
    done = run(pid, ["delete", "table", nft.FAMILY, table])
    if done.returncode != 0 and "No such file" not in done.stderr and identity(pid) == namespace:
        raise SafetyError(f"nft could not delete table {table}: {done.stderr.strip()}")


def packets(pid: int, table: str) -> int:
    done = run(pid, ["-j", "list", "table", nft.FAMILY, table])
    return nft.counted(done.stdout) if done.returncode == 0 else 0
