"""The suites' machinery lives in the plugin (pytester, black box): a team's own test gets the
suites' fixtures and refusals anywhere, and an unrelated suite that happens to use the same
argument names, or ``-n``, is left alone."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFIG = """
version: 1
environments:
  lab:
    services:
      web: {kind: http, url: "http://127.0.0.1:9/"}
"""


@pytest.fixture
def lab(pytester: pytest.Pytester) -> Path:
    return pytester.makefile(".yaml", opsproof=CONFIG)


def test_a_suite_with_its_own_fixtures_of_those_names_is_left_alone(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture
        def experiment():
            return "mine"

        @pytest.fixture
        def chaos_run():
            return "mine too"

        def test_experiment(experiment, chaos_run):
            assert (experiment, chaos_run) == ("mine", "mine too")

        @pytest.mark.parametrize("load_threshold", [1, 2])
        def test_threshold(load_threshold):
            assert load_threshold in (1, 2)

        @pytest.mark.parametrize("redis_source", ["a"])
        def test_source(redis_source):
            assert redis_source == "a"
        """
    )
    result = pytester.runpytest("-n", "2")
    result.assert_outcomes(passed=4)


def test_a_teams_own_chaos_test_is_refused_where_chaos_is_not_allowed(
    pytester: pytest.Pytester, lab: Path
) -> None:
    pytester.makepyfile("def test_mine(experiment):\n    raise AssertionError\n")
    result = pytester.runpytest("--config", str(lab), "--env", "lab")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "chaos" in result.stderr.str()


def test_a_teams_own_load_test_is_refused_where_load_is_not_allowed(
    pytester: pytest.Pytester, lab: Path
) -> None:
    pytester.makepyfile("def test_mine(load_run):\n    raise AssertionError\n")
    result = pytester.runpytest("--config", str(lab), "--env", "lab")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "does not allow load" in result.stderr.str()


def test_the_load_options_reach_a_teams_own_threshold_items(
    pytester: pytest.Pytester, lab: Path
) -> None:
    profile = pytester.makefile(
        ".yaml", profile="vus: 1\nduration: 1s\nthresholds:\n  checks: ['rate>0.99']\n"
    )
    pytester.makepyfile("def test_mine(load_threshold):\n    assert load_threshold.id\n")
    result = pytester.runpytest(
        "--config", str(lab), "--load-profile", str(profile), "--collect-only", "-q"
    )
    result.stdout.fnmatch_lines(["*test_mine[[]checks:rate>0.99[]]"])


def test_verify_retries_a_gate_check_but_judges_a_backup_once(pytester: pytest.Pytester) -> None:
    config = pytester.makefile(
        ".yaml",
        opsproof=CONFIG + "    convergence: {timeout: 1s, interval: 100ms}\n",
    )
    pytester.makepyfile(
        """
        import pytest
        from opsproof.probes.result import Observation

        TRIES = {}

        def failing(name):
            def probe():
                TRIES[name] = TRIES.get(name, 0) + 1
                return Observation(False, name, "broken")
            return probe

        @pytest.fixture
        def dr_session():
            return None

        def test_gate(verify):
            verify(failing("gate"))

        def test_backup(dr_session, verify):
            verify(failing("backup"))

        def test_tries():
            assert TRIES["gate"] > 1 and TRIES["backup"] == 1, TRIES
        """
    )
    result = pytester.runpytest("--config", str(config), "--env", "lab", "-p", "no:randomly")
    result.assert_outcomes(failed=2, passed=1)
