"""Post-deploy smoke steps from the config: does the main API path still work?"""

import pytest

from opsproof.probes import http
from opsproof.targets import SmokeTarget
from opsproof.verify import Verifier

pytestmark = pytest.mark.control("SOC2:CC8.1", "ISO27001:A.8.32")


def test_smoke_step(smoke_step: SmokeTarget, verify: Verifier) -> None:
    verify(lambda: http.run_smoke_step(smoke_step.service, smoke_step.step))
