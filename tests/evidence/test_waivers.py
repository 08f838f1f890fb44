"""Waivers: validated with file:line and the fix, UTC expiries only, matched by test pattern or by
all of a check's controls, and active or expired at the run's start."""

from datetime import UTC, datetime, timedelta, timezone
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
    risk: medium
    ticket: SEC-1
    expires: 2027-01-01T00:00:00Z
  - control: SOC2:CC6.6
    justification: accepted risk
    approver: bob@example.com
    risk: low
    ticket: SEC-2
    expires: 2026-01-01T00:00:00+00:00
  - control: SOC2:CC6.7
    justification: accepted risk
    approver: bob@example.com
    risk: the port is firewalled at the edge
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
    assert "waivers.yaml:8:14: waivers[0].expires:" in str(error.value)
    assert message in str(error.value)


def test_every_problem_is_reported_with_its_line_and_fix(tmp_path: Path) -> None:
    text = VALID.replace("control: SOC2:CC6.6", "control: SOC2:CC6.66").replace(
        "    approver: jane@example.com\n", "    aprover: jane@example.com\n"
    )
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, text)
    message = str(error.value)
    assert "waivers.yaml:5:5: waivers[0].aprover: unknown key; did you mean 'approver'?" in message
    assert "waivers.yaml:9:14: waivers[1].control: unknown control id 'SOC2:CC6.66'" in message


def test_a_waiver_names_a_control_or_a_test_not_both(tmp_path: Path) -> None:
    text = VALID.replace('  - test: "checks', '  - control: SOC2:CC6.1\n    test: "checks')
    with pytest.raises(ConfigError, match="give exactly one of 'control: ID' or 'test: NODE-ID'"):
        _load(tmp_path, text)


BOUNDARY = """\
version: 1
waivers:
  - control: SOC2:CC6.6
    justification: legacy port until the migration
    approver: jane@example.com
    risk: {risk}
    ticket: SEC-9
    expires: {expires}
"""


@pytest.mark.parametrize(
    ("expires", "now", "active"),
    [
        ("2026-12-31T23:59:59Z", datetime(2026, 12, 31, 23, 59, 58, 999999, tzinfo=UTC), True),
        ("2026-12-31T23:59:59Z", datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), False),
        ("2027-01-01T00:00:00Z", datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), True),
        ("2027-01-01T00:00:00Z", datetime(2027, 1, 1, tzinfo=UTC), False),
        ("2027-01-01T00:00:00+00:00", datetime(2027, 1, 1, tzinfo=UTC), False),
        ("2027-01-01T00:00:00.000001Z", datetime(2027, 1, 1, tzinfo=UTC), True),
    ],
)
def test_expiry_is_exclusive_at_the_utc_instant(
    tmp_path: Path, expires: str, now: datetime, active: bool
) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(BOUNDARY.format(risk="low", expires=expires))
    waivers = load_waivers(path, load_catalogue(), now)
    assert (len(waivers.active()), len(waivers.expired())) == ((1, 0) if active else (0, 1))
    assert waivers.entries[0].record(now).status == ("active" if active else "expired")


def test_a_run_at_local_midnight_elsewhere_is_judged_in_utc(tmp_path: Path) -> None:
    """A run starting 2026-12-31 19:00 in New York is 2027-01-01 00:00 UTC: the waiver that
    expires at UTC midnight no longer covers it, whatever the machine's time zone."""
    path = tmp_path / "waivers.yaml"
    path.write_text(BOUNDARY.format(risk="low", expires="2027-01-01T00:00:00Z"))
    new_york = datetime(2026, 12, 31, 19, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert load_waivers(path, load_catalogue(), new_york).active() == []


@pytest.mark.parametrize(
    "expires",
    ["2026-12-31T23:59:59", "2026-12-31T23:59:59+01:00", "2026-12-31", "'2026-12-31T24:00:00Z'"],
)
def test_an_expiry_that_is_not_a_utc_instant_is_refused(tmp_path: Path, expires: str) -> None:
    with pytest.raises(ConfigError, match=r"waivers\[0\]\.expires: .*(UTC|not a timestamp)"):
        _load(tmp_path, BOUNDARY.format(risk="low", expires=expires))


@pytest.mark.parametrize(
    ("risk", "recorded"),
    [("High", "high"), ("critical", "critical"),
     ("data loss bounded to  5 minutes of writes", "data loss bounded to 5 minutes of writes")],
)  # fmt: skip
def test_risk_is_a_level_or_a_sentence_and_is_recorded(
    tmp_path: Path, risk: str, recorded: str
) -> None:
    waivers = _load(tmp_path, BOUNDARY.format(risk=risk, expires="2099-01-01T00:00:00Z"))
    record = waivers.entries[0].record(NOW)
    assert (record.risk, record.approver, record.ticket) == (recorded, "jane@example.com", "SEC-9")


def test_a_misspelt_risk_level_is_located_with_the_level_it_meant(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, BOUNDARY.format(risk="hihg", expires="2099-01-01T00:00:00Z"))
    message = str(error.value)
    assert "waivers.yaml:6:11: waivers[0].risk:" in message
    assert "'hihg' is not one of low, medium, high, critical; did you mean 'high'?" in message


def test_a_waiver_without_risk_or_approver_is_refused(tmp_path: Path) -> None:
    text = BOUNDARY.format(risk="low", expires="2099-01-01T00:00:00Z")
    for line in ("    risk: low\n", "    approver: jane@example.com\n"):
        with pytest.raises(ConfigError, match="missing required key"):
            _load(tmp_path, text.replace(line, ""))
