"""Is the service up, and does its deep health tell the truth about its dependencies?"""

import pytest

from opsproof.probes import http
from opsproof.targets import EndpointTarget
from opsproof.verify import Verifier

pytestmark = pytest.mark.control("SOC2:CC8.1", "ISO27001:A.8.16")


def test_liveness(liveness_target: EndpointTarget, verify: Verifier) -> None:
    verify(lambda: http.check_endpoint(liveness_target.service, liveness_target.check))


def test_deep_health(deep_health_target: EndpointTarget, verify: Verifier) -> None:
    verify(lambda: http.check_endpoint(deep_health_target.service, deep_health_target.check))
