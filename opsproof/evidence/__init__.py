"""Evidence: what each run proves, written so that auditors and engineers can both read it.

Suites record chaos experiments and DR drills through the ``evidence`` fixture
(``opsproof.evidence.recorder.EvidenceRecorder``) with the record types exported here; the rest
of this package is the plugin's machinery.
"""

from opsproof.evidence.model import CheckRecord, FigureRecord, RunRecord
from opsproof.evidence.records import (
    DrillIssue,
    DrillPhase,
    DrillRecord,
    ExperimentRecord,
    IntegrityResult,
    RecoveryObjective,
    SignOff,
)
from opsproof.support.redact import Redactor

__all__ = [
    "CheckRecord",
    "DrillIssue",
    "DrillPhase",
    "DrillRecord",
    "ExperimentRecord",
    "FigureRecord",
    "IntegrityResult",
    "RecoveryObjective",
    "Redactor",
    "RunRecord",
    "SignOff",
]
