"""``runtime_health:`` and a runtime's ``budget:`` and ``restarts:``: "each container under
500 MB" in one line, a service's own budget overriding it key by key, bad values one line."""

from typing import TYPE_CHECKING

import pytest

from opsproof.config.loader import load_environment
from opsproof.health.policy import DEFAULT_OPEN_FILES, policy_for

if TYPE_CHECKING:
    from tests.config.conftest import ConfigFiles

DECLARED = """\
    runtime_health:
      budget: {memory: 500MiB}
    services:
      web:
        kind: process
        runtime:
          docker: {container: web}
          budget: {cpu: 80%, open_files: 0.5}
          restarts: {since: 24h}
      worker:
        kind: process
        runtime: {process: {match: worker.py}}"""


def _declared(cfg: "ConfigFiles", old: str = "", new: str = "") -> str:
    text = cfg.valid.replace("    services:", DECLARED, 1)
    return text.replace(old, new, 1) if old else text


def test_one_line_budgets_every_runtime_and_a_service_overrides_it_key_by_key(
    cfg: "ConfigFiles",
) -> None:
    env = load_environment(cfg.write(_declared(cfg)), "staging", environ=cfg.environ).environment

    web = policy_for(env.runtime_health, env.services["web"].runtime)  # type: ignore[union-attr]
    worker = policy_for(env.runtime_health, env.services["worker"].runtime)  # type: ignore[union-attr]
    assert (web.memory_bytes, web.cpu_cores, web.open_files) == (500 << 20, 0.8, 0.5)
    assert (web.since, web.cpu_window) == (86400.0, 1.0)
    assert (worker.memory_bytes, worker.cpu_cores, worker.since) == (500 << 20, None, "previous")
    assert worker.open_files == DEFAULT_OPEN_FILES and worker.cpu_window is None


CASES = {
    "memory": ("budget: {memory: 500MiB}", "budget: {memory: lots}",
               "environments.staging.runtime_health.budget.memory", "512KiB, 48MiB, 1GB"),
    "cpu": ("cpu: 80%", "cpu: fast", "environments.staging.services.web.runtime.budget.cpu",
            "80% (of one core) or 1.5 (cores)"),
    "open files": ("open_files: 0.5", "open_files: 120%",
                   "environments.staging.services.web.runtime.budget.open_files",
                   "at most 1 (100%)"),
    "since": ("since: 24h", "since: yesterday",
              "environments.staging.services.web.runtime.restarts.since",
              "or write previous (since the previous gate run)"),
    "window": ("budget: {memory: 500MiB}", "budget: {memory: 500MiB}\n      cpu_window: 1m",
               "environments.staging.runtime_health.cpu_window", "10"),
}  # fmt: skip


@pytest.mark.parametrize(("old", "new", "key", "message"), CASES.values(), ids=list(CASES))
def test_a_bad_value_is_one_line_naming_the_key_and_the_fix(
    cfg: "ConfigFiles", old: str, new: str, key: str, message: str
) -> None:
    text = _declared(cfg, old, new)
    [problem] = cfg.problems(text)

    assert problem.key == key
    assert message in problem.message
    assert problem.line == cfg.line_of(text, new.splitlines()[-1].strip())
