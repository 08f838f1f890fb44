"""Evidence: what each run proves, written so that auditors and engineers can both read it."""

from opsproof.evidence.model import CheckRecord, FigureRecord, RunRecord
from opsproof.evidence.redact import Redactor

__all__ = ["CheckRecord", "FigureRecord", "Redactor", "RunRecord"]
