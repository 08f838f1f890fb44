"""An exploration in words and figures: each failed check named, with its minimal example, the
status it got, and a curl line that reproduces it; the seed that replays the run."""

from dataclasses import dataclass

from opsproof.contract.explore import ApiFinding, Exploration
from opsproof.probes.result import Figure, Observation
from opsproof.support.text import one_line

MESSAGE_LIMIT = 400
"""Characters of a check's own message quoted (a schema violation can quote a whole schema)."""


@dataclass(frozen=True)
class Outcome:
    observation: Observation
    inconclusive: bool = False
    """Nothing was judged (the budget was spent before any answer): neither pass nor fail."""


def outcome_of(
    target: str, found: Exploration, checks: tuple[str, ...], seed: int, response_time: float
) -> Outcome:
    """The item's verdict: failed checks first, then a problem, then nothing judged."""
    figures = _figures(found, seed, response_time)
    replay = f"seed {seed}; replay with --api-seed {seed}"
    tried = f"{found.examples} example{'s' * (found.examples != 1)}"
    if found.findings:
        names = sorted(found.findings)
        head = f"{target}: {len(names)} check{'s' * (len(names) > 1)} failed ({', '.join(names)})"
        lines = [f"{head} in {tried} ({replay})"]
        lines += [_finding(found.findings[name]) for name in names]
        figures["failed_checks"] = Figure(", ".join(names))
        return Outcome(Observation(False, target, "\n".join(lines), figures))
    if found.problem:
        reason = f"{target}: could not be explored: {found.problem} ({replay})"
        return Outcome(Observation(False, target, reason, figures))
    judged = found.answered + found.unanswered
    if judged == 0:
        why = "the budget was spent first" if found.stopped else "no case could be sent"
        reason = f"{target}: nothing judged: {why} ({tried}, {found.not_sent} not sendable)"
        return Outcome(Observation(False, target, reason, figures), inconclusive=True)
    stopped = "; stopped at its share of the budget" if found.stopped else ""
    reason = (
        f"{target}: {', '.join(checks)} passed for {judged} answer{'s' * (judged != 1)} "
        f"({_statuses(found)}), slowest {found.slowest_s:.3f}s{stopped} ({replay})"
    )
    return Outcome(Observation(True, target, reason, figures))


def _finding(finding: ApiFinding) -> str:
    status = f"answered {finding.status}; " if finding.status is not None else ""
    kind = "minimal example" if finding.minimal else "smallest example found in time"
    message = one_line(finding.message, MESSAGE_LIMIT)
    detail = f": {message}" if message else ""
    return (
        f"- {finding.check}: {finding.title}{detail}\n"
        f"  {status}{kind}: {finding.example}\n"
        f"  reproduce: {finding.curl}"
    )


def _statuses(found: Exploration) -> str:
    return ", ".join(f"{status} ×{n}" for status, n in sorted(found.statuses.items())) or "none"


def _figures(found: Exploration, seed: int, response_time: float) -> dict[str, Figure]:
    return {
        "examples": Figure(found.examples),
        "answered": Figure(found.answered),
        "not_sent": Figure(found.not_sent),
        "statuses": Figure(_statuses(found)),
        "slowest": Figure(round(found.slowest_s, 4), "s", f"<= {response_time:g}"),
        "explored_for": Figure(round(found.elapsed_s, 3), "s"),
        "seed": Figure(str(seed)),
    }
