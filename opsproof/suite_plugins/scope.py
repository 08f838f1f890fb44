"""Whether a pytest command line runs one of the shipped suites."""

import pytest

from opsproof.paths import SUITES


def names_suite(config: pytest.Config, kind: str) -> bool:
    """True when an argument is the ``kind`` suite's directory or a path (or node id) inside it."""
    suite = SUITES[kind]
    here = config.invocation_params.dir
    paths = [(here / str(arg).partition("::")[0]).resolve() for arg in config.args]
    return any(path == suite or suite in path.parents for path in paths)
