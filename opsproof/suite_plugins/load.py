"""The load suite's options and fixtures: one run of the profile per session, shared by the
run's own item, one item per threshold and, with ``--load-baseline``, one item per request name
compared with the baseline (load/, or a team's own tests asking for ``load_run``,
``load_threshold`` or ``load_compared``)."""

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest

from opsproof.config.problems import config_error
from opsproof.errors import BaselineRefused, ConfigError, OpsproofError
from opsproof.evidence.conclusion import verdict_marks
from opsproof.evidence.verdict import Verdict
from opsproof.load.baseline import (
    ALL_REQUESTS,
    PREVIOUS,
    StoredRun,
    previous_run,
    read_run,
)
from opsproof.load.profile import Profile, load_profile
from opsproof.load.progress import Progress, format_progress
from opsproof.load.runner import DEFAULT_MAX_REQUESTS, RunSettings
from opsproof.load.script import script_problems
from opsproof.load.suite import (
    LoadRun,
    current_run,
    execute,
    require_load_allowed,
    shape_of,
    sources_for,
    target_for,
)
from opsproof.paths import REPORTS_DIR, SUITES
from opsproof.plugin import CONTEXT_KEY, NOT_APPLICABLE, RUN_DIR_KEY
from opsproof.suite_plugins.scope import names_suite, provides

SUITE = SUITES["load"]
_LOADS = pytest.StashKey[bool]()
"""Set when a collected test gets ``load_run`` or ``load_threshold`` from this module."""
PROFILE_KEY = pytest.StashKey[Profile]()
_FIXTURES = ("load_run", "load_threshold", "load_compared")
BASELINE_KEY = pytest.StashKey[StoredRun | str]()
"""The baseline run, or why there is none to compare with."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opsproof-load", "opsproof: load profiles")
    add = group.addoption
    add(
        "--load-profile",
        type=Path,
        default=SUITE / "profiles" / "runbook-ramp.yaml",
        help="k6-style profile (YAML or JSON) to run (default: the runbook ramp)",
    )
    add(
        "--load-locustfile",
        type=Path,
        default=SUITE / "locustfile.py",
        help="Locust user classes; a scenario's exec names one",
    )
    add("--load-service", default=None, help="http service to load (default: api)")
    add(
        "--load-time-scale",
        type=float,
        default=1.0,
        help="multiply every duration in the profile, e.g. 0.01 runs a 16 min ramp in 10 s",
    )
    add("--load-workers", type=int, default=2, help="Locust worker processes on this machine")
    add(
        "--load-expect-workers",
        type=int,
        default=None,
        help="all workers, remote ones included (they join with "
        "`locust --worker --master-host HOST --master-port PORT -f -`)",
    )
    add("--load-master-bind", default="127.0.0.1", help="address the Locust master listens on")
    add("--load-master-port", type=int, default=None, help="its port (default: a free one)")
    add("--load-max-requests", type=int, default=DEFAULT_MAX_REQUESTS,
        help="hard bound on requests per scenario")  # fmt: skip
    add(
        "--load-baseline",
        default=None,
        metavar="RUN_DIR|previous",
        help="compare with this load run's directory, or the newest passed run of the same "
        "environment and profile in the reports directory",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Read the profile before the load suite's session: a mistake in it is a usage error, not
    a test (a team's own load tests meet it while collecting)."""
    if names_suite(config, "load"):
        _profile(config)


def _profile(config: pytest.Config) -> Profile:
    """The profile of ``--load-profile`` scaled by ``--load-time-scale``, read once."""
    if PROFILE_KEY not in config.stash:
        try:
            profile = load_profile(config.option.load_profile)
        except ConfigError as error:
            raise pytest.UsageError(str(error)) from None
        config.stash[PROFILE_KEY] = profile.scaled(config.option.load_time_scale)
    return config.stash[PROFILE_KEY]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    wanted = {n for n in _FIXTURES if provides(metafunc, n, __name__)}
    if wanted:
        metafunc.config.stash[_LOADS] = True
    if "load_compared" in wanted:
        _parametrize_comparisons(metafunc)
    if "load_threshold" in wanted:
        _parametrize_thresholds(metafunc)


def _parametrize_thresholds(metafunc: pytest.Metafunc) -> None:
    thresholds = _profile(metafunc.config).thresholds
    if thresholds:
        metafunc.parametrize("load_threshold", thresholds, ids=[t.id for t in thresholds])
    else:
        reason = f"{NOT_APPLICABLE}: the load profile declares no thresholds"
        marks = verdict_marks(Verdict.NOT_APPLICABLE, reason)
        metafunc.parametrize("load_threshold", [pytest.param(None, marks=marks, id="none")])


def _parametrize_comparisons(metafunc: pytest.Metafunc) -> None:
    """One item per request name of the baseline, and one for every request together."""
    baseline = _baseline(metafunc.config)
    if isinstance(baseline, str):
        marks = verdict_marks(Verdict.NOT_APPLICABLE, f"{NOT_APPLICABLE}: {baseline}")
        metafunc.parametrize("load_compared", [pytest.param(None, marks=marks, id="none")])
        return
    names = [ALL_REQUESTS, *sorted(baseline.names)]
    metafunc.parametrize("load_compared", names, ids=names)


def _baseline(config: pytest.Config) -> StoredRun | str:
    """``--load-baseline``'s run, or why there is none. A run named outright that cannot be a
    baseline is a usage error; ``previous`` of another shape, or from before baselines, is not
    applicable (the profile changed: this run becomes the next one's baseline)."""
    if BASELINE_KEY in config.stash:
        return config.stash[BASELINE_KEY]
    config.stash[BASELINE_KEY] = found = _find_baseline(config)
    return found


def _find_baseline(config: pytest.Config) -> StoredRun | str:
    option = config.option
    if option.load_baseline is None:
        return "no baseline to compare with; give --load-baseline RUN_DIR or previous"
    profile = _profile(config)
    loaded = config.stash[CONTEXT_KEY].load()
    try:
        shape = shape_of(profile, target_for(loaded, option.load_service))
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None
    this_run = config.stash.get(RUN_DIR_KEY, None)
    if option.load_baseline == PREVIOUS:
        reports = this_run.parent if this_run else config.invocation_params.dir / REPORTS_DIR
        found = previous_run(reports, loaded.name, profile.name, this_run)
        if found is None:
            return (
                f"no earlier passed load run of environment {loaded.name!r} with profile "
                f"{profile.name!r} in {reports}"
            )
        run_dir, named = found, False
    else:
        run_dir, named = Path(option.load_baseline), True
    try:
        baseline = read_run(run_dir)
    except BaselineRefused as error:
        refusal = str(error)
    else:
        reason = shape.differs(baseline.shape)
        if reason is None:
            return baseline
        refusal = f"{run_dir} is refused as a baseline: {reason}"
    if named:
        raise pytest.UsageError(f"--load-baseline: {refusal}")
    return refusal


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse before any traffic when the environment has not opted in to load."""
    if not config.stash.get(_LOADS, False):
        return
    profile = _profile(config)
    try:
        loaded = config.stash[CONTEXT_KEY].load()
        require_load_allowed(loaded)
        if any(scenario.scripted for scenario in profile.written.values()):
            sources = sources_for(loaded, config.option.load_service)
            problems = list(script_problems(profile.written, sources, profile.parsed))
            if problems:
                source = profile.parsed.source if profile.parsed else profile.name
                raise config_error(source, problems)
    except OpsproofError as error:
        raise pytest.UsageError(str(error)) from None


@pytest.fixture(scope="session")
def load_run(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> LoadRun:
    """The profile, run once against the environment's service."""
    option = pytestconfig.option
    loaded = pytestconfig.stash[CONTEXT_KEY].load()
    evidence = pytestconfig.pluginmanager.get_plugin("opsproof-evidence")
    out_dir = evidence.run_dir if evidence else tmp_path_factory.mktemp("load")
    try:
        target = target_for(loaded, option.load_service)
        sources = sources_for(loaded, option.load_service)
    except ConfigError as error:
        pytest.exit(str(error), returncode=pytest.ExitCode.USAGE_ERROR)
    settings = RunSettings(
        locustfile=option.load_locustfile,
        out_dir=out_dir,
        workers=option.load_workers,
        expect_workers=option.load_expect_workers,
        master_bind=option.load_master_bind,
        master_port=option.load_master_port,
        max_requests=option.load_max_requests,
        progress=_Printer(pytestconfig),
    )
    try:
        return execute(_profile(pytestconfig), target, settings, sources)
    except ConfigError as error:  # an upload that became unreadable since collection
        pytest.exit(str(error), returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture(scope="session")
def load_baseline(pytestconfig: pytest.Config) -> StoredRun | None:
    """The run this one is compared with (``--load-baseline``), if any."""
    found = _baseline(pytestconfig)
    return None if isinstance(found, str) else found


@pytest.fixture(scope="session")
def load_current(load_run: LoadRun) -> StoredRun:
    """This run as a baseline reads it, so both sides of a comparison are read alike."""
    return current_run(load_run)


class _Printer:
    """Progress lines straight to the terminal, past pytest's output capture."""

    def __init__(self, config: pytest.Config) -> None:
        self._capture = config.pluginmanager.get_plugin("capturemanager")
        self._terminal = config.pluginmanager.get_plugin("terminalreporter")

    def __call__(self, line: Progress) -> None:
        if self._terminal is None:
            return
        with self._disabled():
            self._terminal.write_line(format_progress(line))

    def _disabled(self) -> AbstractContextManager[object]:
        return self._capture.global_and_fixture_disabled() if self._capture else nullcontext()
