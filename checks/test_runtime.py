"""Runtime health of every service with a runtime (process, container, systemd unit): running,
no restart since the previous gate run (or ``runtime_health.restarts.since``), no OOM kill
since it started, memory and CPU within its budget, open files under a share of the limit —
the daily "all containers up, none restarting, memory under budget" checklist."""

from pathlib import Path

import pytest

from opsproof.config.loader import LoadedEnvironment
from opsproof.errors import SafetyError
from opsproof.health.baseline import Baselines
from opsproof.health.check import RuntimeHealthCheck
from opsproof.health.policy import policy_for
from opsproof.probes.result import Observation
from opsproof.targets import RuntimeTarget
from opsproof.verify import Verifier
from opsproof.workers import runtime_of

pytestmark = pytest.mark.control("SOC2:CC7.2", "SOC2:A1.1", "ISO27001:A.8.6", "ISO27001:A.8.16")


def test_runtime_health(
    runtime_target: RuntimeTarget,
    ops_environment: LoadedEnvironment,
    stack_state_dir: Path,
    verify: Verifier,
) -> None:
    env, name = ops_environment.environment, runtime_target.name
    try:
        runtime = runtime_of(name, runtime_target.runtime, stack_state_dir, env.hosts)
    except SafetyError as error:
        refusal = Observation(False, runtime_target.id, str(error))
        verify(lambda: refusal)
        return
    check = RuntimeHealthCheck(
        runtime,
        policy_for(env.runtime_health, runtime_target.runtime),
        Baselines(stack_state_dir, ops_environment.name, name),
        ledger_dir=stack_state_dir,  # a restart by opsproof's own chaos run is named, not a crash
    )
    try:
        verify(check.observe)
    finally:
        check.record()
