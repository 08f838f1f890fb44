"""Several observations of one backup judged as one: it passes only if every part does."""

from collections.abc import Sequence

from opsproof.probes.result import Figure, Observation


def all_of(target: str, parts: Sequence[Observation], summary: str) -> Observation:
    """Passes with ``summary`` when every part passes; else fails with each failing reason."""
    figures: dict[str, Figure] = {}
    for part in parts:
        figures.update(part.figures)
    failed = [part.reason for part in parts if not part.ok]
    if failed:
        return Observation(False, target, "; ".join(failed), figures)
    return Observation(True, target, summary, figures)
