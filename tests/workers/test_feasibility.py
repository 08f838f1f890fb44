"""A kind: process service is a chaos target like any other: the feasibility check accepts
every process fault on the reference worker, and refuses one on a worker nothing could start
again, located like a config error."""

from pathlib import Path

import pytest

from opsproof.config_check import check_config
from opsproof.runtimes.launched import StackState

pytestmark = pytest.mark.stack

CONFIG = """\
version: 1
environments:
  lab:
    stack: reference
    chaos: allowed
    services:
      worker:
        kind: process
        runtime: {process: {component: worker}}
      lonely:
        kind: process
        runtime: {process: {match: opsproof-no-such-worker}}
    chaos_plan:
      may_hit: [worker, lonely]
      steady_state: [worker]
      experiments:
        - {name: kill, fault: {action: kill, service: worker}}
        - {name: stop, fault: {action: stop, service: worker}}
        - {name: restart, fault: {action: restart, service: worker}}
        - {name: pause, fault: {action: pause, service: worker}}
        - {name: memory, fault: {action: memory, service: worker, limit: 64MiB}}
        - {name: cpu, fault: {action: cpu, service: worker, cpus: 0.5}}
        - {name: lonely killed, fault: {action: kill, service: lonely}}
"""


def test_process_faults_on_a_worker_are_feasible_and_one_without_a_way_back_is_not(
    reference_stack: StackState, reference_stack_dir: Path, tmp_path: Path
) -> None:
    config = tmp_path / "opsproof.yaml"
    config.write_text(CONFIG)
    problems = check_config(config, "lab", reference_stack_dir).problems
    [problem] = problems
    line = CONFIG.splitlines().index("        runtime: {process: {match: opsproof-no-such-worker}}")
    assert problem.startswith(f"{config}:{line + 1}:"), problem
    assert (
        "environments.lab.services.lonely.runtime.process: experiment 'lonely killed' kills "
        "process://lonely, and nothing could start it again: no start command declared" in problem
    )
