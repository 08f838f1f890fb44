"""When a suite plugin acts: on the shipped suite's command line, and on the tests that get the
suite's arguments from it, never on a test whose own fixture of the same name provides them."""

import pytest

from opsproof.paths import SUITES


def names_suite(config: pytest.Config, kind: str) -> bool:
    """True when an argument is the ``kind`` suite's directory or a path (or node id) inside it."""
    suite = SUITES[kind]
    here = config.invocation_params.dir
    paths = [(here / str(arg).partition("::")[0]).resolve() for arg in config.args]
    return any(path == suite or suite in path.parents for path in paths)


def provides(metafunc: pytest.Metafunc, name: str, module: str) -> bool:
    """True when the test asks for ``name`` and gets it from ``module``: a fixture defined there,
    or, with no fixture of that name and no ``parametrize`` mark for it, its parametrization."""
    if name not in metafunc.fixturenames:
        return False
    if any(name in _argnames(mark) for mark in metafunc.definition.iter_markers("parametrize")):
        return False
    # pytest has no public way to ask which fixture gives a test an argument
    definitions = metafunc._arg2fixturedefs.get(name)
    return not definitions or definitions[-1].func.__module__ == module


def _argnames(mark: pytest.Mark) -> list[str]:
    names = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
    return [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
