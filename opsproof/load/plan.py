"""What the pytest process tells the Locust master, and the master tells each worker: the
scenario, the target, the work's share, and the bounds. Plain JSON, so workers on other
machines receive it in a Locust custom message and need no file from this one."""

from pydantic import BaseModel, ConfigDict

from opsproof.load.options import Scenario
from opsproof.load.script import Script
from opsproof.load.target import LoadTarget as LoadTarget  # where callers have found it

PLAN_ENV = "OPSPROOF_LOAD_PLAN"
"""Environment variable naming the plan file, read by the Locust master."""
PLAN_ARGUMENT = "opsproof_plan"
"""The Locust custom argument that carries the plan from the master to its workers."""
SCRIPT_USER = "OpsproofScriptUser"
"""The user class that runs a config-only scenario's requests or flow (``locust/script_user``)."""


class AbortRule(BaseModel):
    """An abortOnFail threshold, evaluated by the master about once a second."""

    model_config = ConfigDict(frozen=True)

    id: str
    selector: str
    expression: str
    delay: float | None = None


class LoadPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    scenario_name: str
    written: Scenario
    time_scale: float
    user_class: str
    workers: int
    target: LoadTarget
    max_requests: int
    """Hard bound on requests in this scenario; each worker stops at its share."""
    submetrics: list[str] = []
    """Selectors with tags that thresholds name: samples are also counted under these."""
    abort_rules: list[AbortRule] = []
    out_dir: str = ""
    run_timeout: float
    """Seconds after the start after which the master gives up waiting for the workers."""
    script: Script | None = None
    """A config-only scenario's requests or flow (``user_class`` is then ``SCRIPT_USER``)."""

    @property
    def scenario(self) -> Scenario:
        # imported here: profile pulls in opsproof.config, which every Locust process would
        # otherwise import (~0.2 CPU-s each) without using it
        from opsproof.load.profile import scale

        return scale(self.written, self.time_scale)
