"""The source checkout these tests run from (opsproof itself may be installed from a wheel)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

UNUSED_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:schemathesis")
"""What ``opsproof run`` leaves out of a suite's pytest (runner.py says why); a test that runs a
suite with pytest itself leaves them out too: Schemathesis's plugin alone costs ~0.8 s of CPU."""
