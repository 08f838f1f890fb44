"""The shipped control catalogue: it knows every control the suites name, and a wrong id is
explained with the closest right one."""

import ast
from pathlib import Path

import pytest

from opsproof.evidence.catalogue import load_catalogue
from tests.project import PROJECT_ROOT

SUITES = ("checks", "chaos", "load")


def _control_ids_in_suites() -> set[str]:
    """Every string argument of a ``control(...)`` call in the shipped suites."""
    found = set()
    for suite in SUITES:
        for path in (PROJECT_ROOT / suite).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "control":
                    found |= {a.value for a in node.args if isinstance(a, ast.Constant)}
    return found


def test_every_control_the_suites_name_is_in_the_catalogue() -> None:
    catalogue = load_catalogue()
    used = _control_ids_in_suites()
    assert "SOC2:CC8.1" in used  # the scan finds the gate's marks
    assert {c for c in used if catalogue.problem(c)} == set()


@pytest.mark.parametrize(
    "control",
    ["SOC2:CC6.1", "SOC2:A1.3", "ISO27001:A.5.29", "ISO27001:A.8.13", "NIST800-53:CP-4",
     "NIST800-53:CP-9", "NIST800-53:CP-10", "NIST800-53:SI-4"],
)  # fmt: skip
def test_the_frameworks_controls_asked_for_are_there(control: str) -> None:
    catalogue = load_catalogue()
    assert catalogue.problem(control) is None
    assert catalogue.title(control)


def test_an_unknown_id_is_named_with_the_closest_known_one() -> None:
    problem = load_catalogue().problem("SOC2:CC7.9")
    assert problem is not None
    assert "unknown control id 'SOC2:CC7.9'; did you mean 'SOC2:CC7." in problem
    assert "opsproof report controls" in problem


@pytest.mark.parametrize("control", ["CC7.2", 7, ""])
def test_a_malformed_id_says_what_form_it_must_have(control: object) -> None:
    problem = load_catalogue().problem(control)
    assert problem is not None and "is not of the form FRAMEWORK:ID" in problem


def test_scope_of_each_kind_lists_only_known_controls() -> None:
    catalogue = load_catalogue()
    assert set(catalogue.scope) >= {"gate", "chaos", "dr"}
    assert "NIST800-53:CP-4" in catalogue.in_scope("dr")
    assert catalogue.in_scope("no-such-kind") == []


def test_shipped_file_is_package_data() -> None:
    assert Path(PROJECT_ROOT / "opsproof" / "evidence" / "data" / "catalogue.yaml").is_file()
