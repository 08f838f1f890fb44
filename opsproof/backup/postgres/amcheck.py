"""pg_amcheck on a restored database: heap pages and B-tree indexes are structurally sound
(the amcheck extension is installed into the restored database if it is missing)."""

from opsproof.backup.postgres.database import Database
from opsproof.backup.tools import postgres_tool, run
from opsproof.errors import BackupError
from opsproof.probes.result import Figure, Observation


def amcheck(
    database: Database, timeout: float, *, jobs: int = 2, heapallindexed: bool = False
) -> Observation:
    """``heapallindexed`` also checks that every heap tuple has its index entries (slower)."""
    target = database.target
    args, env = database.server_args()
    command = [
        postgres_tool("pg_amcheck"),
        *args,
        f"--database={database.name}",
        "--install-missing",
        f"--jobs={jobs}",
        "--no-password",
    ]
    if heapallindexed:
        command.append("--heapallindexed")
    try:
        run(command, timeout, env=env)
    except BackupError as exc:
        return Observation(False, target, f"{target}: pg_amcheck found problems: {exc}")
    figures = {"amcheck_heapallindexed": Figure(heapallindexed)}
    return Observation(True, target, f"{target}: pg_amcheck finds heap and indexes sound", figures)
