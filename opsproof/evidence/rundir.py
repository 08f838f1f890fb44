"""Where a run's evidence goes: ``reports/runs/<UTC-stamp>-<kind>-<env>/``."""

import re
from datetime import UTC, datetime
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_RUN_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)-(?P<series>.+?)(?:\.(?P<n>\d+))?$")


def utc_stamp(moment: datetime) -> str:
    """Sortable, filesystem-safe UTC time: 20261123T011502Z."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def series_name(kind: str, environment: str) -> str:
    """The part of a run directory's name shared by runs of one kind and environment."""
    return f"{_UNSAFE.sub('_', kind)}-{_UNSAFE.sub('_', environment)}"


def create_run_dir(reports_dir: Path, kind: str, environment: str, started: datetime) -> Path:
    """A new, unique run directory; a second run in the same second gets a suffix."""
    base = f"{utc_stamp(started)}-{series_name(kind, environment)}"
    reports_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1000):
        candidate = reports_dir / (base if attempt == 0 else f"{base}.{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{reports_dir}: could not create a run directory for {base}")


def run_dirs(reports_dir: Path, series: str | None = None) -> list[Path]:
    """Run directories oldest first, optionally only those of one ``series_name``."""
    found: list[tuple[str, int, Path]] = []
    if not reports_dir.is_dir():
        return []
    for path in reports_dir.iterdir():
        match = _RUN_NAME.match(path.name)
        if match and path.is_dir() and series in (None, match["series"]):
            found.append((match["stamp"], int(match["n"] or 0), path))
    return [path for _, _, path in sorted(found)]


def series_of(run_dir: Path) -> str:
    """The series of a run directory (``gate-staging``); its whole name when not a run's."""
    match = _RUN_NAME.match(run_dir.name)
    return match["series"] if match else run_dir.name
