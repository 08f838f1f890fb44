"""The API contract items' machinery: ``api_operation`` and ``api_access`` parametrized from each
http service's ``api_contract`` (its OpenAPI document is read while collecting, so each
operation is its own item), the session's probes, ``--api-seed``.

Schemathesis is imported only when an environment declares an ``api_contract``.
"""

import secrets
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from _pytest.assertion.rewrite import AssertionRewritingHook

from opsproof.config.models import HttpService
from opsproof.contract.targets import CONTRACT_FIXTURES, ApiTarget
from opsproof.errors import ConfigError
from opsproof.evidence.conclusion import NOT_APPLICABLE, verdict_marks
from opsproof.evidence.verdict import Verdict
from opsproof.journeys.flow import FlowContext
from opsproof.plugin import CONTEXT_KEY, RUN_DIR_KEY
from opsproof.suite_plugins.scope import provides

if TYPE_CHECKING:
    from opsproof.contract.probe import ContractProbe
    from opsproof.contract.report import Outcome

HOME = "api-contract"
"""Hypothesis's own files (its caches), under the state directory, never the working one."""
DATABASE = f"{HOME}/hypothesis"
"""Hypothesis's example database, under the state directory: a failure found once is tried
first the next time."""


class ContractProbes:
    """One probe per service, made (and its document read) once per process."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._probes: dict[str, ContractProbe] = {}

    def get(self, name: str) -> "ContractProbe":
        if name not in self._probes:
            from hypothesis.configuration import set_hypothesis_home_dir

            from opsproof.contract.probe import ContractProbe

            context = self._config.stash[CONTEXT_KEY]
            set_hypothesis_home_dir(context.state_dir / HOME)
            loaded = context.load()
            services = loaded.environment.services_of(HttpService)
            flow_context = FlowContext(
                loaded.source.parent, self._config.stash.get(RUN_DIR_KEY, None), loaded.secrets
            )
            probe = ContractProbe(
                name, services[name], services, flow_context, context.state_dir / DATABASE
            )
            probe.load()  # Schemathesis imports most of itself here, lazily
            self._probes[name] = probe
        return self._probes[name]

    def close(self) -> None:
        for probe in self._probes.values():
            probe.close()


@contextmanager
def _imported_as_python_does() -> Iterator[None]:
    """Imports without pytest's assertion rewriting. Schemathesis and Hypothesis ship pytest
    plugins, so pytest marks every module of theirs for rewriting, and without bytecode caching
    (PYTHONDONTWRITEBYTECODE) rewrites them all again on every run: 6 s of a 13 s gate here,
    for modules that hold no test. Collection imports in one thread, so nothing else misses
    the hook meanwhile."""
    hooks = [finder for finder in sys.meta_path if isinstance(finder, AssertionRewritingHook)]
    for hook in hooks:
        sys.meta_path.remove(hook)
    try:
        yield
    finally:
        sys.meta_path[:0] = hooks


_PROBES = pytest.StashKey[ContractProbes]()


def _probes(config: pytest.Config) -> ContractProbes:
    if _PROBES not in config.stash:
        config.stash[_PROBES] = ContractProbes(config)
    return config.stash[_PROBES]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("opsproof").addoption(
        "--api-seed",
        dest="opsproof_api_seed",
        type=int,
        default=None,
        help="api contract: the seed to generate inputs with (each item's reason names the "
        "seed it used, to replay it)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One item per covered operation; a held-back one (a method the probe may not call) is
    not applicable, with the reason; none at all → one not applicable item."""
    for fixture in CONTRACT_FIXTURES:
        if not provides(metafunc, fixture, __name__):
            continue
        try:
            loaded = metafunc.config.stash[CONTEXT_KEY].load()
        except ConfigError as error:
            raise pytest.UsageError(str(error)) from None
        params = []
        for name, service in loaded.environment.services_of(HttpService).items():
            if service.api_contract is None:
                continue
            with _imported_as_python_does():
                probe = _probes(metafunc.config).get(name)
            for target, why in probe.targets(fixture == "api_access"):
                marks = (
                    verdict_marks(Verdict.NOT_APPLICABLE, f"{NOT_APPLICABLE}: {why}") if why else ()
                )
                params.append(pytest.param(target, marks=marks, id=target.id))
        if not params:
            reason = f"{NOT_APPLICABLE}: environment {loaded.name!r} declares nothing for {fixture}"
            marks = verdict_marks(Verdict.NOT_APPLICABLE, reason)
            params = [pytest.param(None, marks=marks, id="none")]
        metafunc.parametrize(fixture, params)


@dataclass(frozen=True)
class ContractSession:
    """What the items ask: run or plan a target, with the session's seed."""

    probes: ContractProbes
    seed: int
    items: Counter[str]
    """Items per service this session runs: each probe's budget is shared over them."""

    def run(self, target: ApiTarget) -> "Outcome":
        with _imported_as_python_does():  # Schemathesis's lazy imports as it generates
            return self.probes.get(target.name).run(target, self.seed)

    def plan(self, target: ApiTarget) -> str:
        return self.probes.get(target.name).plan(target, self.items[target.name], self.seed)


@pytest.fixture(scope="session")
def api_contract(request: pytest.FixtureRequest) -> Iterator[ContractSession]:
    """The session's probes; each shares its budget over its items that run (not applicable
    ones do not count)."""
    config = request.config
    chosen = config.option.opsproof_api_seed
    seed = secrets.randbelow(1 << 32) if chosen is None else chosen
    items: Counter[str] = Counter()
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        for fixture in CONTRACT_FIXTURES:
            target = params.get(fixture)
            if isinstance(target, ApiTarget) and item.get_closest_marker("skip") is None:
                items[target.name] += 1
    probes = _probes(config)
    for name, count in items.items():
        probes.get(name).share(count)
    yield ContractSession(probes, seed, items)
    probes.close()
