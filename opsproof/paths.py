"""Where opsproof's own files are: the shipped config, the suites and the reference fixtures.

They live in the ``opsproof.shipped`` package (in a checkout, the top-level directories that
``setup.py`` maps into it), so a wheel installed anywhere finds them as a checkout does.
"""

from importlib.util import find_spec
from pathlib import Path

_SHIPPED = "opsproof.shipped"


def _package_dir(name: str) -> Path:
    """The directory of a package of ours, found without importing it."""
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{name} is not installed: reinstall opsproof")
    return Path(spec.submodule_search_locations[0]).resolve()


SHIPPED_CONFIG = (_package_dir(_SHIPPED) / "opsproof.yaml").resolve()
"""The reference environment's config, used when no other config file is found."""
FIXTURES = _package_dir(f"{_SHIPPED}.fixtures")
"""The reference service's package, its monitoring configuration and stack definitions."""
SUITES = {
    "gate": _package_dir(f"{_SHIPPED}.checks"),
    "load": _package_dir(f"{_SHIPPED}.load"),
    "chaos": _package_dir(f"{_SHIPPED}.chaos"),
    "dr": _package_dir(f"{_SHIPPED}.dr"),
}
"""Run kind → the suite directory ``opsproof run KIND`` executes."""
ALL = "all"
"""The run kind that runs every suite in turn: the main job."""
REPORTS_DIR = Path("reports") / "runs"
"""Where run directories go unless ``--reports-dir`` says otherwise: relative to the current
directory, so a run from a team's repository reports there, never into the installation."""


def find_config(explicit: Path | None, cwd: Path, environ_value: str | None) -> Path:
    """``--config``, else ``$OPSPROOF_CONFIG``, else ``./opsproof.yaml``, else the shipped file."""
    if explicit is not None:
        return explicit
    if environ_value:
        return Path(environ_value)
    local = cwd / "opsproof.yaml"
    return local if local.is_file() else SHIPPED_CONFIG
