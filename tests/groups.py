"""Which tests share one pytest-xdist worker when scripts/test.sh runs them in parallel.

A session fixture holding a deployment that tests change or judge (components stopped, alerts
left firing, gates that need it healthy, a guest that boots once) gives every test using it one
group: one worker starts it once and runs those tests in the order a serial run does. Every
other test is grouped by its module, so module fixtures (the chaos tests' own stacks) start once.

The controller schedules from node ids alone (it collects nothing), so the groups are listed
here by path; collection checks the list against the fixtures each test uses. (pytest-xdist's
own ``xdist_group`` marks do not reach the scheduler under pytest 9.2: pytest-xdist#1386.)
"""

import pytest
from xdist.scheduler import LoadScopeScheduling

GROUPS = {
    "testhost": ("tests/testhost/",),
    "reference-stack": (
        "tests/cli/test_run_observes.py",
        "tests/contract/test_contract_gate.py",
        "tests/gate/test_gate.py",
        "tests/gate/test_gate_oscal.py",
        "tests/gate/test_gate_workers.py",
        "tests/journeys/test_flows.py",
        "tests/load/test_load_suite.py",
        "tests/monitoring/test_detection.py",
        "tests/monitoring/test_live.py",
        "tests/monitoring/test_stack_monitoring.py",
        "tests/runtimes/test_process_runtime.py",
        "tests/stack/test_outages.py",
        "tests/stack/test_service.py",
        "tests/stack/test_stack_up.py",
        "tests/workers/test_feasibility.py",
        "tests/workers/test_process_service.py",
        "tests/workers/test_queues.py",
    ),
    "packaging": ("tests/packaging/",),
    "docker-stack": (
        "tests/docker/test_init_gate.py",
        "tests/docker/test_run_follows_stack.py",
        "tests/docker/test_stack.py",
    ),
}
"""Group → the paths (a directory ends in ``/``) of its tests; the longest chain first: the
groups start in this order, before any module."""

SHARED = {
    "guest": "testhost",
    "reference_stack_dir": "reference-stack",
    "installed": "packaging",
    "docker_stack_dir": "docker-stack",
}
"""The session fixture of each shared deployment → its group."""


def group_of(nodeid: str) -> str:
    path = nodeid.partition("::")[0]
    for group, paths in GROUPS.items():
        if any(path == listed or path.startswith(listed) for listed in paths):
            return group
    return path


def check(item: pytest.Item) -> None:
    """A test using a shared deployment whose path is not listed in its group: one line with
    the fix (a worker of its own would start a second deployment and reorder its users)."""
    fixtures = getattr(item, "fixturenames", ())
    for fixture, group in SHARED.items():
        if fixture in fixtures and group_of(item.nodeid) != group:
            path = item.nodeid.partition("::")[0]
            raise pytest.UsageError(
                f"{path}: uses {fixture} (group {group!r}); add {path!r} to "
                f"GROUPS[{group!r}] in tests/groups.py"
            )


def in_start_order(items: list[pytest.Item]) -> None:
    """The listed groups first, in ``GROUPS``'s order; the rest as collected (stable)."""
    rank = {group: n for n, group in enumerate(GROUPS)}
    items.sort(key=lambda item: rank.get(group_of(item.nodeid), len(rank)))


class GroupScheduling(LoadScopeScheduling):
    """``--dist loadscope`` whose scope is the test's group (``--no-loadscope-reorder`` keeps
    the collected order: the longest chain starts first)."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid)
