"""Where ``opsproof init`` writes: a new file (never over an existing one unless forced), or
standard output for ``-``."""

import sys
from pathlib import Path

from opsproof.errors import OpsproofError, OutputExists

STDOUT = "-"


def write_config(text: str, output: str, *, force: bool) -> Path | None:
    """Write ``text`` to ``output``; the path written, or None for standard output."""
    if output == STDOUT:
        sys.stdout.write(text)
        return None
    path = Path(output)
    try:
        # "x" creates the file or fails: no window between a check and the write
        with path.open("w" if force else "x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        raise OutputExists(
            f"{path} exists; pass --force to replace it, or --output another file (- prints it)"
        ) from None
    except OSError as error:
        raise OpsproofError(f"cannot write {path}: {error.strerror}") from None
    return path
