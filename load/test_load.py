"""Load: the profile's run as one item (generator health, headline figures, the chart), then
every threshold as its own item, judged like k6 but failing when it saw no samples, and with
``--load-baseline`` every request name compared with the baseline run."""

import pytest

from opsproof.evidence.conclusion import conclude
from opsproof.evidence.properties import figure_property
from opsproof.evidence.recorder import EvidenceRecorder
from opsproof.evidence.verdict import Verdict
from opsproof.load.baseline import StoredRun, compare_row
from opsproof.load.profile import Threshold
from opsproof.load.regression import MIN_TAIL, UNITS
from opsproof.load.suite import LoadRun, load_record, run_figures
from opsproof.load.verdicts import judge
from opsproof.probes.result import Figure

pytestmark = pytest.mark.control("SOC2:A1.1", "ISO27001:A.8.6")


def _record(request: pytest.FixtureRequest, figures: dict[str, Figure]) -> None:
    for name, figure in figures.items():
        request.node.user_properties.append(figure_property(name, figure))


def test_load_run(
    load_run: LoadRun,
    load_baseline: StoredRun | None,
    request: pytest.FixtureRequest,
    evidence: EvidenceRecorder,
) -> None:
    _record(request, run_figures(load_run))
    evidence.record_load(load_record(load_run, load_baseline))
    result = load_run.result
    if result.errors:
        pytest.fail("; ".join(result.errors), pytrace=False)
    if result.aborted:
        pytest.fail(f"the run was stopped early: {result.aborted}", pytrace=False)
    if not load_run.health.ok:
        reason = "inconclusive: " + "; ".join(load_run.health.reasons)
        conclude(request.node, Verdict.INCONCLUSIVE, reason)


def test_threshold(
    load_threshold: Threshold, load_run: LoadRun, request: pytest.FixtureRequest
) -> None:
    verdict = judge(load_threshold, load_run.result, load_run.health)
    figure = Figure(verdict.value, verdict.unit, str(load_threshold.expression))
    _record(request, {load_threshold.id: figure, "samples": Figure(verdict.samples)})
    if verdict.outcome == "inconclusive":
        conclude(request.node, Verdict.INCONCLUSIVE, verdict.reason)
    if verdict.outcome == "failed":
        pytest.fail(verdict.reason, pytrace=False)


def test_regression(
    load_compared: str,
    load_baseline: StoredRun,
    load_current: StoredRun,
    load_run: LoadRun,
    request: pytest.FixtureRequest,
) -> None:
    row = compare_row(load_baseline, load_current, load_compared, load_run.profile.regression)
    figures = {"baseline": Figure(load_baseline.name)}
    for c in row.comparisons:
        unit = UNITS[c.metric]
        figures |= {
            f"{c.metric}.baseline": Figure(round(c.baseline, 6), unit),
            f"{c.metric}.now": Figure(round(c.now, 6), unit, f"within {c.tolerance:.6g}"),
            f"{c.metric}.change": Figure(round(c.change, 6), unit),
            f"{c.metric}.tolerance": Figure(round(c.tolerance, 6), unit),
            f"{c.metric}.noise": Figure(round(c.noise, 6), unit),
            f"{c.metric}.outcome": Figure(c.outcome),
        }
    for metric in row.uncompared:
        figures[f"{metric}.outcome"] = Figure(
            f"not compared: fewer than {MIN_TAIL} requests above it"
        )
    _record(request, figures)
    if row.missing:
        reason = f"{load_compared}: the baseline sent requests of this name, this run none"
        pytest.fail(reason, pytrace=False)
    if regressed := row.of("regressed"):
        pytest.fail(f"{load_compared}: " + "; ".join(c.words() for c in regressed), pytrace=False)
