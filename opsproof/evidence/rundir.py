"""Where a run's evidence goes: ``reports/runs/<UTC-stamp>-<kind>-<env>/``."""

import re
from datetime import UTC, datetime
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def utc_stamp(moment: datetime) -> str:
    """Sortable, filesystem-safe UTC time: 20261123T011502Z."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def create_run_dir(reports_dir: Path, kind: str, environment: str, started: datetime) -> Path:
    """A new, unique run directory; a second run in the same second gets a suffix."""
    base = f"{utc_stamp(started)}-{_UNSAFE.sub('_', kind)}-{_UNSAFE.sub('_', environment)}"
    reports_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1000):
        candidate = reports_dir / (base if attempt == 0 else f"{base}.{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{reports_dir}: could not create a run directory for {base}")
