"""Shared by every suite run from this repository.

The engine lives in the ``opsproof`` plugin (loaded through its entry point); this file only
keeps pytest away from directories that hold no suites of ours.
"""

collect_ignore = ["fixtures", "reports", "examples", "bench", ".venv"]
