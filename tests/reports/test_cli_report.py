"""``opsproof report``: verify's exit codes for each kind of tampering, history with missed
scheduled runs, Allure HTML with and without the allure CLI, keys, controls and the schema."""

import json
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from opsproof.cli import main
from opsproof.evidence.manifest import MANIFEST_NAME, write_manifest
from opsproof.evidence.model import RunRecord
from opsproof.evidence.rundir import create_run_dir
from opsproof.evidence.signing import generate_key_pair, load_private_key
from opsproof.evidence.writers import write_json
from opsproof.support.redact import Redactor

START = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
Sealer = Callable[..., Path]


def _report(*args: str) -> Result:
    return CliRunner().invoke(main, ["report", *args])


@pytest.fixture
def keyfile(tmp_path: Path) -> Path:
    generate_key_pair(tmp_path / "signing.pem")
    return tmp_path / "signing.pem"


@pytest.fixture
def sealed(tmp_path: Path, keyfile: Path) -> Sealer:
    """``sealed(days=0, kind="chaos")``: a signed chaos run in tmp_path/runs, nightly schedule."""

    def make(
        days: float = 0, kind: str = "chaos", exit_status: int = 0, dry_run: bool = False
    ) -> Path:
        started = START + timedelta(days=days)
        verdict = {0: "passed", 1: "failed"}.get(exit_status, "inconclusive")
        run = RunRecord(
            kind=kind, environment="staging", config_file="opsproof.yaml", started_at=started,
            finished_at=started + timedelta(seconds=30 + days), opsproof_version="0.1.0",
            exit_status=exit_status, checks=[], verdict=verdict, dry_run=dry_run,
            schedule_interval_s=86400.0,
        )  # fmt: skip
        run_dir = create_run_dir(tmp_path / "runs", kind, "staging", started)
        write_json(run, run_dir / "evidence.json", Redactor())
        (run_dir / "summary.md").write_text("# ok\n")
        write_manifest(run_dir, kind, "staging", load_private_key(keyfile))
        return run_dir

    return make


def test_intact_runs_exit_0_whether_given_one_by_one_or_as_a_directory(
    sealed: Sealer, keyfile: Path
) -> None:
    first, second = sealed(), sealed(1)
    result = _report("verify", "--public-key", f"{keyfile}.pub", str(first), str(second))
    assert result.exit_code == 0, result.output
    assert result.output.count("OK ") == 2 and "signed by sha256:" in result.output
    assert _report("verify", str(first.parent)).exit_code == 0


@pytest.mark.parametrize(
    ("tamper", "code", "message"),
    [
        (lambda run: (run / "summary.md").write_text("# forged\n"), 1, "modified: summary.md"),
        (lambda run: (run / "summary.md").unlink(), 1, "missing: summary.md"),
        (lambda run: (run / "extra.txt").write_text("x"), 1, "added: extra.txt"),
        (lambda run: (run / MANIFEST_NAME).unlink(), 2, "no manifest.json"),
        (lambda run: (run / MANIFEST_NAME).write_text("{"), 2, "unreadable"),
        (
            lambda run: (run / MANIFEST_NAME).write_text(
                (run / MANIFEST_NAME).read_text().replace('"size": 5', '"size": 6')
            ),
            3,
            "bad signature",
        ),
        (lambda run: write_manifest(run, "chaos", "staging", None), 3, "not signed"),
    ],
    ids=["modified", "missing", "added", "no-manifest", "bad-manifest", "edited", "unsigned"],
)
def test_each_kind_of_tampering_has_its_exit_status(
    sealed: Sealer, keyfile: Path, tamper: Callable[[Path], object], code: int, message: str
) -> None:
    run_dir = sealed()
    tamper(run_dir)
    result = _report("verify", "--public-key", f"{keyfile}.pub", str(run_dir))
    assert result.exit_code == code, result.output
    assert message in result.output


def test_a_broken_chain_exits_4_and_a_worse_finding_wins(sealed: Sealer) -> None:
    first, second = sealed(), sealed(1)
    (first / "summary.md").write_text("# forged\n")
    write_manifest(first, "chaos", "staging", None)  # hide it by resealing
    result = _report("verify", str(second))
    assert result.exit_code == 4
    assert f"previous run {first.name} was changed" in result.output
    assert _report("verify", "--require-signature", str(first.parent)).exit_code == 3


def test_arguments_that_are_not_runs_are_a_usage_error(tmp_path: Path) -> None:
    assert _report("verify", str(tmp_path / "nowhere")).exit_code == 2
    assert _report("verify", "--public-key", __file__, str(tmp_path)).exit_code == 2


def test_history_shows_runs_and_missed_scheduled_runs(sealed: Sealer, tmp_path: Path) -> None:
    sealed(0)
    sealed(1, exit_status=1)
    sealed(2, exit_status=6, dry_run=True)  # a dry run on night 2, an inconclusive run on 3
    sealed(3, exit_status=6)
    sealed(4)  # ... so nights 2 and 3 never ran
    reports = tmp_path / "runs"
    result = _report("history", "--reports-dir", str(reports), "--html")
    assert result.exit_code == 0, result.output
    assert "20261102T020000Z-chaos-staging" in result.output and "FAILED" in result.output
    assert "INCONCLUSIVE (dry run)" in result.output
    assert result.output.count("(not counted toward a schedule)") == 2
    assert "MISSED 2 scheduled chaos run(s) on staging after 20261102T020000Z-chaos-staging" in (
        result.output
    )
    index = (reports / "index.html").read_text()
    assert 'href="20261105T020000Z-chaos-staging/report.html"' in index and "missed" in index
    failing = _report("history", "--reports-dir", str(reports), "--fail-on-missed")
    assert failing.exit_code == 1


def test_allure_without_its_cli_says_how_to_get_it(sealed: Sealer) -> None:
    run_dir = sealed()
    (run_dir / "allure-results").mkdir()
    result = _report("allure", str(run_dir), "--allure", "no-such-allure-binary")
    assert result.exit_code == 3
    assert "npm install -g allure" in result.output


def test_allure_builds_beside_the_runs_and_keeps_history_without_touching_the_run(
    sealed: Sealer, tmp_path: Path
) -> None:
    run_dir = sealed()
    (run_dir / "allure-results").mkdir()
    (run_dir / "allure-results" / "x-result.json").write_text("{}")
    write_manifest(run_dir, "chaos", "staging", None)
    fake = tmp_path / "fake-allure"
    fake.write_text(
        "#!/bin/sh\n"  # records its arguments and config, writes the report like Allure 3
        f'echo "$@" > {tmp_path}/args\ncp "$4" {tmp_path}/config.json\n'
        'out=$(sed \'s/.*"output": "\\([^"]*\\)".*/\\1/\' "$4")\n'
        'mkdir -p "$out" && echo "<html></html>" > "$out/index.html"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    result = _report("allure", str(run_dir), "--allure", str(fake))
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["output"] == str(tmp_path / "allure" / run_dir.name)
    assert config["historyPath"] == str(tmp_path / "allure" / "history-chaos-staging.jsonl")
    assert (tmp_path / "allure" / run_dir.name / "index.html").is_file()
    assert (tmp_path / "args").read_text().startswith(f"generate {run_dir / 'allure-results'}")
    assert _report("verify", str(run_dir)).exit_code == 0


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    result = _report("keygen", str(tmp_path / "k.pem"))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600
    assert (tmp_path / "k.pem.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert _report("keygen", str(tmp_path / "k.pem")).exit_code == 2  # never overwrites


def test_controls_and_schema_are_printed() -> None:
    controls = _report("controls", "--kind", "dr")
    assert "NIST800-53:CP-4" in controls.output and "[dr]" in controls.output
    assert "SOC2:CC8.1" not in controls.output
    schema = json.loads(_report("schema").output)
    assert schema["$id"] == "urn:opsproof:evidence:3"
