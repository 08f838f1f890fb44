"""The groups of tests/groups.py, as scripts/test.sh runs them: a shared deployment's tests on
one worker, the listed groups first, and a test on a shared deployment outside its group
refused while collecting, with the fix."""

import re

import pytest

from tests.project import PROJECT_ROOT

pytest_plugins = ["pytester"]

CONFTEST = """
import pytest

from tests.conftest import pytest_collection_modifyitems, pytest_xdist_make_scheduler


@pytest.fixture(scope="session")
def reference_stack_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("stack")
"""
USES_THE_STACK = """
def test_one(reference_stack_dir):
    pass


def test_two(reference_stack_dir):
    pass
"""
ALONE = """
def test_one():
    pass


def test_two():
    pass
"""
PARALLEL = ("-n", "2", "--dist", "loadscope", "--no-loadscope-reorder", "-p", "no:cacheprovider")


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Modules at the paths tests/groups.py lists (and one it does not), with this project's
    grouping hooks; its workers import them from this checkout."""
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    pytester.makeconftest(CONFTEST)
    modules = {
        "tests/gate/test_gate.py": USES_THE_STACK,
        "tests/stack/test_outages.py": USES_THE_STACK,
        "tests/testhost/test_accel.py": ALONE,
        "tests/config/test_a.py": ALONE,
        "tests/config/test_b.py": ALONE,
    }
    for path, source in modules.items():
        (pytester.path / path).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / path).write_text(source)
    return pytester


def test_the_listed_groups_come_first_in_their_order(suite: pytest.Pytester) -> None:
    collected = suite.runpytest("--collect-only", "-q", "-p", "no:cacheprovider")
    modules = [line.partition("::")[0] for line in collected.outlines if "::" in line]
    assert list(dict.fromkeys(modules)) == [
        "tests/testhost/test_accel.py",
        "tests/gate/test_gate.py",
        "tests/stack/test_outages.py",
        "tests/config/test_a.py",
        "tests/config/test_b.py",
    ]


def test_a_group_runs_on_one_worker(suite: pytest.Pytester) -> None:
    # in a subprocess: xdist gives its workers the sys.path its process started with, and this
    # process, when started as `pytest` rather than `python -m pytest`, has no checkout on it
    result = suite.runpytest_subprocess(*PARALLEL, "-v")
    result.assert_outcomes(passed=10)
    ran = re.findall(r"^\[(gw\d)\] .*PASSED (tests/\S+)::", result.stdout.str(), re.MULTILINE)
    workers: dict[str, set[str]] = {}
    for worker, path in ran:
        workers.setdefault(path, set()).add(worker)
    assert len(ran) == 10
    assert workers["tests/gate/test_gate.py"] == workers["tests/stack/test_outages.py"]
    assert all(len(found) == 1 for found in workers.values()), workers


def test_a_shared_deployment_outside_its_group_is_refused_with_the_fix(
    suite: pytest.Pytester,
) -> None:
    (suite.path / "tests/config/test_b.py").write_text(USES_THE_STACK)
    result = suite.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: tests/config/test_b.py: uses reference_stack_dir (group 'reference-stack'); "
            "add 'tests/config/test_b.py' to GROUPS['reference-stack'] in tests/groups.py"
        ]
    )
