"""Which PostgreSQL took a dump, and whether this machine's pg_dump was older than the server.

pg_dump refuses a server of a newer major version, but not a newer minor one; yet a minor
release can add internal settings an older pg_dump copies as if they were the user's (15.20's
``pg_attver`` column option: every column of a 15.20 server has one, pg_dump 15.20 leaves it
out, pg_dump 15.18 dumps it and no 15.18 server restores it). A restore that fails after such a
dump says so, with the fix, instead of blaming the backup alone.
"""

import re

from opsproof.backup.tools import postgres_tool, run
from opsproof.errors import BackupError

_VERSION = re.compile(r"(\d+)(?:\.(\d+))?")
VERSION_TIMEOUT = 10.0


def parse(text: str) -> tuple[int, int] | None:
    """``15.20 (Debian 15.20-0+deb12u1)`` or ``pg_dump (PostgreSQL) 15.18 …`` → (15, 20)."""
    found = _VERSION.search(text.split(")", 1)[-1] if text.startswith("pg_") else text)
    if found is None:
        return None
    return int(found[1]), int(found[2] or 0)


def tool_version(name: str = "pg_dump") -> tuple[int, int] | None:
    """The version of this machine's ``name`` (None when it cannot be asked)."""
    try:
        return parse(run([postgres_tool(name), "--version"], VERSION_TIMEOUT).stdout)
    except BackupError:
        return None


def older_tool_hint(server_version: str) -> str:
    """A sentence for a failed restore when the server was newer than this machine's pg_dump;
    empty otherwise."""
    server, tool = parse(server_version), tool_version()
    if server is None or tool is None or tool >= server:
        return ""
    newer, older = ".".join(map(str, server)), ".".join(map(str, tool))
    return (
        f"the dump was taken by this machine's pg_dump {older}, older than the server's "
        f"PostgreSQL {newer}, and may carry that release's own settings as the user's: install "
        f"PostgreSQL {newer} or newer client programs here (postgresql-client-{server[0]})"
    )
