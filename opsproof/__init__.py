"""opsproof: runbook steps as pytest suites whose results become compliance evidence.

Importing this package has no side effects: no connections, no patching, no files.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
