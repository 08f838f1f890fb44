"""A team's own controls: a catalogue extension file named by ``controls:`` in opsproof.yaml adds
ACME:OPS-7; a check marked with it shows in every format and in OSCAL, an unknown custom id is a
collection error naming the test's file and line, and a bad extension file is located."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from opsproof.cli import main
from opsproof.evidence.oscal.ids import control_token
from tests.reports.test_oscal import load_oscal

pytest_plugins = ["pytester"]

CONTROLS = """\
version: 1
frameworks:
  ACME: ACME operations policy 2026
controls:
  ACME:OPS-7:
    title: Every production cache answers within its budget
    scope: [gate]
  ACME:OPS-8:
    title: Every deploy is reversible
    scope: [gate]
"""
SUITE = """\
import pytest
from opsproof.probes.result import Observation


@pytest.mark.control("ACME:OPS-7")
def test_cache_budget(redis_target, verify):
    verify(lambda: Observation(True, "cache", "fine"))
"""


@pytest.fixture
def acme(lab: Callable[..., Any], pytester: pytest.Pytester) -> Callable[..., Any]:
    """The lab, with ``controls: acme-controls.yaml`` in its opsproof.yaml."""
    config = pytester.path / "opsproof.yaml"
    config.write_text("controls: acme-controls.yaml\n" + config.read_text())
    pytester.makefile(".yaml", **{"acme-controls": CONTROLS})
    pytester.makepyfile(test_acme=SUITE)
    return lab


def test_a_custom_control_appears_in_every_format(acme: Callable[..., Any]) -> None:
    run = acme("-k", "cache_budget", kind="gate")
    assert run.result.ret == 0, run.result.stdout.str()
    run_dir = run.run_dir
    evidence = json.loads((run_dir / "evidence.json").read_text())
    assert evidence["controls"]["ACME:OPS-7"] == "passed"
    assert evidence["controls"]["ACME:OPS-8"] == "not_evaluated"  # in the gate's scope, unrun
    assert evidence["catalogue_version"].startswith("2026.1+acme-controls.yaml@")
    assert "ACME:OPS-7" in (run_dir / "summary.md").read_text()
    html = (run_dir / "report.html").read_text()
    assert "ACME:OPS-7" in html and "Every production cache answers within its budget" in html
    assert 'value="ACME:OPS-7"' in (run_dir / "junit.xml").read_text()
    allure = [json.loads(p.read_text()) for p in (run_dir / "allure-results").glob("*-result.json")]
    tags = {label["value"] for r in allure for label in r["labels"] if label["name"] == "tag"}
    assert "ACME:OPS-7" in tags
    models = load_oscal(run_dir / "oscal")
    acme_group = next(g for g in models["catalog.json"].groups if g.title.startswith("ACME"))
    labels = {c.props[0].value: c.title for c in acme_group.controls}
    assert labels["ACME:OPS-7"] == "Every production cache answers within its budget"
    findings = {f.target.title: f for f in models["assessment-results.json"].results[0].findings}
    assert findings["ACME:OPS-7"].target.status.state.value == "satisfied"
    assert findings["ACME:OPS-8"].target.status.state.value == "not-satisfied"
    profile_ids = models["profile.json"].imports[0].include_controls[0].with_ids
    assert control_token("ACME:OPS-7") in {i.__root__ for i in profile_ids}


def test_report_controls_lists_the_teams_own(acme: Callable[..., Any], pytester: pytest.Pytester):
    listed = CliRunner().invoke(
        main,
        ["report", "controls", "--kind", "gate", "--config", str(pytester.path / "opsproof.yaml")],
    )
    assert listed.exit_code == 0, listed.output
    assert "ACME:OPS-7" in listed.output and "[gate]" in listed.output


def test_an_unknown_custom_id_is_a_collection_error_naming_file_and_line(
    acme: Callable[..., Any], pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        test_typo="""
        import pytest


        @pytest.mark.control("ACME:OPS-9")
        def test_typo():
            pass
        """
    )
    run = acme(kind="gate")
    output = run.result.stdout.str()
    assert "ERROR collecting test_typo.py" in output
    assert "test_typo.py:4: test_typo.py::test_typo: unknown control id 'ACME:OPS-9'" in output
    assert "did you mean 'ACME:OPS-" in output
    assert "acme-controls.yaml" in output
    assert run.result.ret != 0


def test_a_waiver_may_name_a_custom_control(
    acme: Callable[..., Any], pytester: pytest.Pytester
) -> None:
    waivers = pytester.makefile(
        ".yaml",
        waivers="version: 1\nwaivers:\n  - control: ACME:OPS-8\n    justification: rollback "
        "rehearsal moved to Q3\n    approver: cto@example.com\n    risk: low\n"
        "    ticket: OPS-88\n    expires: 2099-01-01T00:00:00Z\n",
    )
    run = acme("-k", "cache_budget", "--waivers", str(waivers), kind="gate")
    evidence = json.loads((run.run_dir / "evidence.json").read_text())
    assert evidence["controls"]["ACME:OPS-8"] == "waived"
    finding = next(
        f
        for f in load_oscal(run.run_dir / "oscal")["assessment-results.json"].results[0].findings
        if f.target.title == "ACME:OPS-8"
    )
    assert finding.target.status.reason == "not-evaluated" and finding.related_risks


@pytest.mark.parametrize(
    ("change", "located"),
    [
        (("ACME:OPS-8:", "ACMEE:OPS-8:"), "acme-controls.yaml:8:3: controls.ACMEE:OPS-8: unknown "
         "framework 'ACMEE'; did you mean 'ACME'?"),
        (("scope: [gate]\n  ACME:OPS-8", "scope: [gat]\n  ACME:OPS-8"), "acme-controls.yaml:7:"),
        (("ACME:OPS-8:", "SOC2:CC7.2:"), "'SOC2:CC7.2' is already in opsproof's catalogue"),
        (("    title: Every deploy", "    titel: Every deploy"), "acme-controls.yaml:9:5:"),
    ],
)  # fmt: skip
def test_a_bad_extension_file_is_a_usage_error_located_in_it(
    acme: Callable[..., Any], pytester: pytest.Pytester, change: tuple[str, str], located: str
) -> None:
    path = pytester.path / "acme-controls.yaml"
    path.write_text(path.read_text().replace(*change))
    run = acme(kind="gate")
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    assert located in run.result.stderr.str()
    assert run.run_dir is None


def test_a_missing_extension_file_says_where_it_was_looked_for(
    acme: Callable[..., Any], pytester: pytest.Pytester
) -> None:
    (pytester.path / "acme-controls.yaml").unlink()
    run = acme(kind="gate")
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    assert "acme-controls.yaml: cannot read the controls file" in run.result.stderr.str()


def test_a_config_without_controls_uses_the_shipped_catalogue(tmp_path: Path) -> None:
    from opsproof.evidence.custom_controls import load_run_catalogue

    config = tmp_path / "opsproof.yaml"
    config.write_text("version: 1\nenvironments: {}\n")
    assert load_run_catalogue(config).extension is None
