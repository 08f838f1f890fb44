"""Services run by systemd (``runtime: {systemd: ...}``): each unit loaded, active and running,
not frozen; its main PID, restart count and Restart= policy recorded as figures."""

import pytest

from opsproof.probes.result import Observation
from opsproof.probes.systemd import declared_unit_running
from opsproof.runtimes.systemd import local_systemd_refusal
from opsproof.targets import UnitTarget
from opsproof.verify import Verifier

pytestmark = pytest.mark.control("SOC2:CC7.2", "ISO27001:A.8.16")


def test_unit_running(unit_target: UnitTarget, verify: Verifier) -> None:
    remote, unit = unit_target.remote, unit_target.unit
    if remote is None:
        verify(lambda: Observation(False, unit, f"{unit}: {local_systemd_refusal()}"))
    else:
        verify(lambda: declared_unit_running(remote, unit))
