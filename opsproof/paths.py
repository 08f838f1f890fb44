"""Where opsproof's own files are: the shipped config and the suites next to the package."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = PROJECT_ROOT / "opsproof.yaml"
SUITES = {"gate": PROJECT_ROOT / "checks"}
"""Run kind → the suite directory ``opsproof run KIND`` executes."""


def find_config(explicit: Path | None, cwd: Path, environ_value: str | None) -> Path:
    """``--config``, else ``$OPSPROOF_CONFIG``, else ``./opsproof.yaml``, else the shipped file."""
    if explicit is not None:
        return explicit
    if environ_value:
        return Path(environ_value)
    local = cwd / "opsproof.yaml"
    return local if local.is_file() else SHIPPED_CONFIG
