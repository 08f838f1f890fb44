"""Waivers: validated with file:line and the fix, UTC expiries only, matched by test pattern or by
all of a check's controls, and active or expired at the run's start."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsproof.errors import ConfigError
from opsproof.evidence.catalogue import load_catalogue
from opsproof.evidence.waivers import Waivers, load_waivers

NOW = datetime(2026, 11, 23, tzinfo=UTC)
VALID = """\
version: 1
waivers:
  - test: "checks/test_host.py::test_private_ports*"
    justification: legacy port until the migration
    approver: jane@example.com
    ticket: SEC-1
    expires: 2027-01-01T00:00:00Z
  - control: SOC2:CC6.6
    justification: accepted risk
    approver: bob@example.com
    ticket: SEC-2
    expires: 2026-01-01T00:00:00+00:00
  - control: SOC2:CC6.7
    justification: accepted risk
    approver: bob@example.com
    ticket: SEC-3
    expires: "2027-01-01T00:00:00Z"
"""


def _load(tmp_path: Path, text: str) -> Waivers:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    return load_waivers(path, load_catalogue(), NOW)


def test_active_and_expired_are_judged_at_the_run_start(tmp_path: Path) -> None:
    waivers = _load(tmp_path, VALID)
    assert [w.ticket for w in waivers.active()] == ["SEC-1", "SEC-3"]
    assert [w.ticket for w in waivers.expired()] == ["SEC-2"]
    assert waivers.waived_controls() == {"SOC2:CC6.7"}
    record = waivers.expired()[0].record(NOW)
    assert (record.status, record.applies_to, record.subject) == (
        "expired",
        "control",
        "SOC2:CC6.6",
    )


def test_a_test_waiver_matches_node_ids_by_pattern(tmp_path: Path) -> None:
    waivers = _load(tmp_path, VALID)
    covered = waivers.for_check("checks/test_host.py::test_private_ports[ssh://app1]", [])
    assert covered is not None and covered.ticket == "SEC-1"
    assert waivers.for_check("checks/test_host.py::test_disk[ssh://app1]", []) is None


def test_a_control_waiver_covers_a_check_only_when_all_its_controls_are_waived(
    tmp_path: Path,
) -> None:
    waivers = _load(tmp_path, VALID)
    covered = waivers.for_check("checks/test_tls.py::test_chain", ["SOC2:CC6.7"])
    assert covered is not None and covered.ticket == "SEC-3"
    assert waivers.for_check("checks/test_tls.py::test_x", ["SOC2:CC6.7", "SOC2:CC8.1"]) is None
    # an expired control waiver covers nothing
    assert waivers.for_check("checks/test_host.py::test_ports", ["SOC2:CC6.6"]) is None


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("2027-01-01T00:00:00", "is not in UTC; write the expiry in UTC, e.g."),
        ("2027-01-01T00:00:00+02:00", "is not in UTC"),
        ("2027-01-01", "is a date without a time"),
        ("next tuesday", "'next tuesday' is not a timestamp"),
    ],
)
def test_an_expiry_must_be_an_explicit_utc_timestamp(
    tmp_path: Path, expires: str, message: str
) -> None:
    text = VALID.replace(
        "2027-01-01T00:00:00Z\n  - control: SOC2:CC6.6", f"{expires}\n  - control: SOC2:CC6.6"
    )
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, text)
    assert "waivers.yaml:7:14: waivers[0].expires:" in str(error.value)
    assert message in str(error.value)


def test_every_problem_is_reported_with_its_line_and_fix(tmp_path: Path) -> None:
    text = VALID.replace("control: SOC2:CC6.6", "control: SOC2:CC6.66").replace(
        "    approver: jane@example.com\n", "    aprover: jane@example.com\n"
    )
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, text)
    message = str(error.value)
    assert "waivers.yaml:5:5: waivers[0].aprover: unknown key; did you mean 'approver'?" in message
    assert "waivers.yaml:8:14: waivers[1].control: unknown control id 'SOC2:CC6.66'" in message


def test_a_waiver_names_a_control_or_a_test_not_both(tmp_path: Path) -> None:
    text = VALID.replace('  - test: "checks', '  - control: SOC2:CC6.1\n    test: "checks')
    with pytest.raises(ConfigError, match="give exactly one of 'control: ID' or 'test: NODE-ID'"):
        _load(tmp_path, text)
