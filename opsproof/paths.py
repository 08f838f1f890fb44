"""Where opsproof's own files are: the shipped config and the suites next to the package."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = PROJECT_ROOT / "opsproof.yaml"
SUITES = {
    "gate": PROJECT_ROOT / "checks",
    "load": PROJECT_ROOT / "load",
    "chaos": PROJECT_ROOT / "chaos",
    "dr": PROJECT_ROOT / "dr",
}
"""Run kind → the suite directory ``opsproof run KIND`` executes."""
ALL = "all"
"""The run kind that runs every suite in turn: the main job."""


def find_config(explicit: Path | None, cwd: Path, environ_value: str | None) -> Path:
    """``--config``, else ``$OPSPROOF_CONFIG``, else ``./opsproof.yaml``, else the shipped file."""
    if explicit is not None:
        return explicit
    if environ_value:
        return Path(environ_value)
    local = cwd / "opsproof.yaml"
    return local if local.is_file() else SHIPPED_CONFIG
