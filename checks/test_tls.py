"""TLS: the certificate is far from expiry, matches the hostname and chains to a trusted CA."""

import pytest

from opsproof.config.models import HttpService
from opsproof.probes import tls
from opsproof.targets import Target
from opsproof.verify import Verifier

pytestmark = pytest.mark.control("SOC2:CC6.7", "ISO27001:A.8.24")


def test_certificate_expiry(tls_target: Target[HttpService], verify: Verifier) -> None:
    verify(lambda: tls.days_to_expiry(tls_target.service))


def test_certificate_hostname(tls_target: Target[HttpService], verify: Verifier) -> None:
    verify(lambda: tls.hostname_matches(tls_target.service))


def test_certificate_chain(tls_target: Target[HttpService], verify: Verifier) -> None:
    verify(lambda: tls.chain_valid(tls_target.service))
