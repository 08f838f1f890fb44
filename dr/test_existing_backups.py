"""Backups already taken (a directory of dated files): the newest is fresh enough for the RPO,
intact, and restores to what its fingerprint or manifest recorded."""

from datetime import UTC, datetime

import pytest

from opsproof.backup.artifacts.checks import freshness, intact, restores
from opsproof.backup.session import DrSession
from opsproof.backup.targets import ArtifactTarget
from opsproof.verify import Verifier

pytestmark = [
    pytest.mark.control("SOC2:A1.2", "ISO27001:A.8.13", "NIST800-53:CP-9"),
    pytest.mark.severity("high"),
]


def test_newest_backup_fresh(artifact_set: ArtifactTarget, verify: Verifier) -> None:
    """The newest backup is younger than the recovery point objective."""
    if artifact_set.max_age is None:
        pytest.fail("no max_age, source rpo or slo.rpo to judge freshness by", pytrace=False)
    max_age = artifact_set.max_age
    verify(lambda: freshness(artifact_set.pattern, max_age, datetime.now(UTC)))


@pytest.mark.control("NIST800-53:CP-9(1)")
def test_newest_backup_intact(
    artifact_set: ArtifactTarget, dr_session: DrSession, verify: Verifier
) -> None:
    """The newest backup matches its sha256 and its format's checker reads it whole."""
    verify(lambda: intact(artifact_set.kind, artifact_set.pattern, dr_session.timeout))


@pytest.mark.control("SOC2:A1.3", "NIST800-53:CP-9(1)")
def test_newest_backup_restores(
    artifact_set: ArtifactTarget, dr_session: DrSession, verify: Verifier
) -> None:
    """The newest backup restores on a scratch server to what was recorded at backup time."""
    result = restores(
        artifact_set.kind, artifact_set.pattern, dr_session.timeout, required=artifact_set.required
    )
    verify(lambda: result)
