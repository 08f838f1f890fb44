"""A drill's verdict from its record: every integrity result passed, every objective met, no
failure; the same rule for the reference stack and a team's deployment."""

from dataclasses import dataclass

from opsproof.evidence.records import DrillRecord, RecoveryObjective
from opsproof.probes.result import Figure, Observation


@dataclass(frozen=True)
class DrillOutcome:
    record: DrillRecord
    observation: Observation


def objective(
    system: str, targets: tuple[float, float], rto: float | None, rpo: float | None
) -> RecoveryObjective:
    return RecoveryObjective(
        system=system,
        rto_target_s=targets[0],
        rto_achieved_s=None if rto is None else round(rto, 3),
        rpo_target_s=targets[1],
        rpo_achieved_s=None if rpo is None else round(rpo, 3),
    )


def judge(record: DrillRecord, failure: str) -> Observation:
    """Passed only with no failure, every integrity result passed and every objective met."""
    figures: dict[str, Figure] = {}
    for o in record.objectives:
        figures[f"rto_{o.system}_s"] = Figure(o.rto_achieved_s, "s", f"<= {o.rto_target_s:g}")
        figures[f"rpo_{o.system}_s"] = Figure(o.rpo_achieved_s, "s", f"<= {o.rpo_target_s:g}")
    failed = [r for r in record.integrity if not r.passed]
    missed = [o.system for o in record.objectives if not (o.rto_met() and o.rpo_met())]
    problems = [failure] if failure else []
    problems += [f"{r.system} {r.check}: {r.actual}" for r in failed]
    if missed and not failure:  # a drill that failed recovered nothing to time
        problems.append(f"objectives missed for {', '.join(missed)}")
    if problems:
        return Observation(
            False, record.scenario, "DR drill failed: " + "; ".join(problems), figures
        )
    service = next(o for o in record.objectives if o.system == "service")
    reason = (
        f"DR drill passed: service healthy and verified {service.rto_achieved_s:.1f}s after the "
        f"restore began (target {service.rto_target_s:g}s), data loss window "
        f"{service.rpo_achieved_s:.1f}s (target {service.rpo_target_s:g}s)"
    )
    return Observation(True, record.scenario, reason, figures)
