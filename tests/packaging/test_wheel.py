"""A packaged tool (issue #15): the wheel carries everything a run needs, and `opsproof run`
works from any directory after installing it, with no checkout on sys.path."""

import json
import shutil
import zipfile
from pathlib import Path

from tests.packaging.conftest import Installed
from tests.project import PROJECT_ROOT

RUN_TIMEOUT = 900
SHIPPED = "opsproof/shipped"


def _run_dirs(cwd: Path) -> dict[str, Path]:
    """The run directories written under ``cwd`` by kind (``<stamp>-<kind>-<env>``)."""
    runs = cwd / "reports" / "runs"
    return {path.name.split("-")[1]: path for path in sorted(runs.iterdir())}


def _verdict(run_dir: Path) -> str:
    """The run's overall verdict from its evidence."""
    return str(json.loads((run_dir / "evidence.json").read_text())["verdict"])


def _verdicts(run_dir: Path) -> dict[str, str]:
    """Each item's verdict by ``<file name>::<test>`` (ids are relative to pytest's rootdir)."""
    evidence = json.loads((run_dir / "evidence.json").read_text())
    verdicts = {}
    for check in evidence["checks"]:
        path, _, test = check["id"].partition("::")
        verdicts[f"{Path(path).name}::{test}"] = check["verdict"]
    return verdicts


def test_the_wheel_carries_the_suites_the_reference_environment_and_its_fixtures(
    installed: Installed,
) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    needed = {
        f"{SHIPPED}/opsproof.yaml",
        f"{SHIPPED}/checks/test_health.py",
        f"{SHIPPED}/chaos/test_experiments.py",
        f"{SHIPPED}/dr/test_drill.py",
        f"{SHIPPED}/load/test_load.py",
        f"{SHIPPED}/load/locustfile.py",
        f"{SHIPPED}/load/profiles/runbook-ramp.yaml",
        f"{SHIPPED}/fixtures/reference_service/app.py",
        f"{SHIPPED}/fixtures/reference_service/schema.sql",
        f"{SHIPPED}/fixtures/monitoring/prometheus.template.yml",
        f"{SHIPPED}/fixtures/monitoring/rules/reference.rules.yml",
        f"{SHIPPED}/fixtures/monitoring/tests/reference.rules.test.yml",
        "opsproof/evidence/templates/report.html.j2",
        "opsproof/evidence/data/evidence-3.schema.json",
        "opsproof/evidence/data/catalogue.yaml",
        "opsproof/faults/experiment.py",
        "opsproof/suite_plugins/load.py",
    }
    assert needed <= names, sorted(needed - names)
    # the suites' machinery is the plugin's: no conftest.py decides what a suite can do
    assert not [name for name in names if name.endswith("conftest.py")]
    shipped_config = zipfile.ZipFile(installed.wheel).read(f"{SHIPPED}/opsproof.yaml")
    assert shipped_config == (PROJECT_ROOT / "opsproof.yaml").read_bytes()


def test_the_installed_tool_finds_its_files_in_the_virtualenv_not_the_checkout(
    installed: Installed, empty_dir: Path
) -> None:
    script = (
        "import json, sys; from opsproof import paths; "
        "print(json.dumps([str(paths.SHIPPED_CONFIG), str(paths.FIXTURES), "
        "*map(str, paths.SUITES.values()), sys.path]))"
    )
    done = installed.run("python", "-c", script, cwd=empty_dir, timeout=60)
    assert done.returncode == 0, done.stderr
    *files, sys_path = json.loads(done.stdout)
    assert all(Path(file).is_relative_to(installed.venv.resolve()) for file in files), files
    assert not [entry for entry in sys_path if entry and PROJECT_ROOT.is_relative_to(entry)]


def test_the_suites_options_exist_in_plain_pytest_wherever_opsproof_is_installed(
    installed: Installed, empty_dir: Path
) -> None:
    done = installed.run("python", "-m", "pytest", "--help", cwd=empty_dir, timeout=120)
    assert done.returncode == 0, done.stderr
    for option in ("--env", "--load-profile", "--load-time-scale", "--dry-run", "--reports-dir"):
        assert option in done.stdout


def test_opsproof_run_gate_from_an_empty_directory_reports_there(
    installed: Installed, empty_dir: Path, tmp_path: Path
) -> None:
    """The wheel starts the reference stack from its own fixtures, judges it, stops it."""
    state = str(tmp_path / "state")
    done = installed.run(
        "opsproof", "run", "gate", "--state-dir", state, cwd=empty_dir, timeout=RUN_TIMEOUT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert [path.name for path in empty_dir.iterdir()] == ["reports"]
    (gate,) = _run_dirs(empty_dir).values()
    assert gate.name.endswith("-gate-reference")
    assert json.loads((gate / "evidence.json").read_text())["verdict"] == "passed"
    assert (gate / "report.html").is_file() and (gate / "manifest.json").is_file()


def test_opsproof_run_all_from_an_empty_directory_runs_every_suite(
    installed: Installed, empty_dir: Path, tmp_path: Path
) -> None:
    """Gate, DR and chaos pass. The load suite must run and judge every threshold; whether the
    thresholds hold measures this machine's spare capacity (two cores serving the stack and
    Locust at once), not the packaging, so a threshold may fail here — nothing else may. The
    thresholds' own verdicts are proven in tests/load."""
    state = str(tmp_path / "state")
    done = installed.run(
        "opsproof", "run", "all", "--state-dir", state, cwd=empty_dir, timeout=RUN_TIMEOUT
    )
    output = done.stdout[-6000:] + done.stderr[-3000:]
    runs = _run_dirs(empty_dir)
    assert set(runs) == {"gate", "dr", "chaos", "load"}, output
    for kind in ("gate", "dr", "chaos"):
        assert _verdict(runs[kind]) == "passed", output
    load = _verdicts(runs["load"])
    assert load.pop("test_load.py::test_load_run") == "passed", output
    no_baseline = load.pop("test_load.py::test_regression[none]")  # no --load-baseline given
    assert no_baseline == "not_applicable", output
    assert load and all(name.startswith("test_load.py::test_threshold[") for name in load), load
    assert set(load.values()) <= {"passed", "failed"}, load
    load_verdict = "passed" if set(load.values()) == {"passed"} else "failed"
    assert _verdict(runs["load"]) == load_verdict, output
    assert done.returncode == (0 if load_verdict == "passed" else 1), output


def test_a_teams_own_checks_beside_its_config_use_opsproofs_fixtures(
    installed: Installed, empty_dir: Path, static_site: tuple[str, Path]
) -> None:
    """examples/team-suite against a web server opsproof did not start: the shipped gate and
    the team's own items in one run; a fault only the team's own check knows fails it."""
    url, site = static_site
    shutil.copytree(PROJECT_ROOT / "examples" / "team-suite", empty_dir, dirs_exist_ok=True)
    (site / "health.json").write_text('{"status": "ok"}')
    (site / "prices.json").write_text('{"currency": "EUR", "items": {"tea": 3.5, "cake": 4}}')
    env = {"CATALOGUE_URL": url}
    check = ("opsproof", "config", "check", "--env", "staging")
    done = installed.run(*check, cwd=empty_dir, timeout=RUN_TIMEOUT, env=env)
    assert done.returncode == 0, done.stdout + done.stderr

    done = installed.run(
        *("opsproof", "run", "gate", "--env", "staging", "--", "ops"),
        cwd=empty_dir, timeout=RUN_TIMEOUT, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (gate,) = _run_dirs(empty_dir).values()
    verdicts = _verdicts(gate)
    assert verdicts["test_health.py::test_liveness[GET " + url + "/health.json]"] == "passed"
    assert verdicts["test_catalogue.py::test_every_price_is_positive"] == "passed"
    assert verdicts["test_smoke.py::test_smoke_step[the price list is published]"] == "passed"

    (site / "prices.json").write_text('{"currency": "EUR", "items": {"tea": 3.5, "cake": -4}}')
    shutil.rmtree(empty_dir / "reports")
    done = installed.run(
        *("python", "-m", "pytest", "ops", "--env", "staging", "-p", "no:cacheprovider"),
        cwd=empty_dir, timeout=RUN_TIMEOUT, env=env,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    (failed,) = _run_dirs(empty_dir).values()
    assert _verdicts(failed)["test_catalogue.py::test_every_price_is_positive"] == "failed"
    assert "not positive: cake" in done.stdout


def test_from_nothing_to_a_gate_with_the_installed_tool_alone(
    installed: Installed, empty_dir: Path, static_site: tuple[str, Path]
) -> None:
    """pip install, ``opsproof init --url``, ``opsproof run gate``: a service opsproof did not
    start, declared only in the file init wrote; the gate passes on it and fails without it."""
    url, site = static_site
    (site / "health").write_text("ok")
    steps = [
        ("opsproof", "init", "--url", url),
        ("opsproof", "config", "check", "--env", "staging"),
        ("opsproof", "run", "gate", "--env", "staging"),
    ]
    for step in steps:
        done = installed.run(*step, cwd=empty_dir, timeout=RUN_TIMEOUT)
        assert done.returncode == 0, f"{step}: {done.stdout}{done.stderr}"
    (gate,) = _run_dirs(empty_dir).values()
    assert _verdicts(gate)[f"test_health.py::test_liveness[GET {url}/health]"] == "passed"

    (site / "health").unlink()
    done = installed.run(*steps[-1], cwd=empty_dir, timeout=RUN_TIMEOUT)
    assert done.returncode == 1, done.stdout + done.stderr
