"""Mutations of the shipped opsproof.yaml, as a careless editor or a generator makes them: keys
deleted or misspelt, values of the wrong type, unknown keys, extreme numbers, long strings,
unicode and control characters. Each file either loads — and then every value is one the
probes can use — or fails with one clean, located error; never a traceback, never slowly.
"""

import copy
import math
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from opsproof.config.loader import LoadedEnvironment, load_environment
from opsproof.config.problems import MAX_PROBLEMS
from opsproof.errors import ConfigError
from opsproof.probes.http import endpoint_url
from opsproof.targets import TARGET_FIXTURES
from tests.config.shipped import literal_shipped_config

BUDGET_S = 2.0
"""CPU seconds a load may take, error or not."""
LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<rest>.+)$")

Node = dict[str, object] | list[object]
KeyOrIndex = str | int

fuzz = settings(
    max_examples=120,
    deadline=None,  # timed below in CPU seconds: wall time on a busy CI machine says little
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


BASE = yaml.safe_load(literal_shipped_config())


def base_document() -> dict[str, object]:
    document = copy.deepcopy(BASE)
    assert isinstance(document, dict)
    return document


def places(node: object, at: tuple[KeyOrIndex, ...] = ()) -> Iterator[tuple[KeyOrIndex, ...]]:
    """Every key path of the document, containers and scalars alike."""
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from places(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from places(value, (*at, index))


PLACES = [at for at in places(base_document()) if at]

long_text = st.integers(1_000, 200_000).map(lambda n: "a" * n)
hostile_text = st.sampled_from(
    [
        "",
        " ",
        "\r\n",
        "a\r\nInjected: 1",
        "\x00",
        "é",
        "😀" * 50,
        "\u202e",
        "${UNSET}",
        "$bare",
        "${",
        "http://127.0.0.1:abc/",
        "http://" + "a" * 90 + ".example/",
        "redis://127.0.0.1:99999/0",
        "/",
        "..",
        "yes",
        "1e22",
        "15 minutes",
        "-1s",
    ]
)
numbers = st.sampled_from(
    [
        math.nan,
        math.inf,
        -math.inf,
        1e308,
        -1e308,
        10**310,
        -(10**40),
        2**63,
        65536,
        -1,
        0,
        0.0,
        1e-300,
        99999,
    ]
)
hostile = st.one_of(
    numbers,
    st.booleans(),
    st.none(),
    long_text,
    hostile_text,
    st.text(max_size=30),
    st.integers(),
    st.floats(),
    st.lists(st.integers(), max_size=3),
    st.recursive(
        st.text(max_size=5), lambda inner: st.dictionaries(st.text(max_size=5), inner), max_leaves=8
    ),
)


def parent_and_key(document: object, at: tuple[KeyOrIndex, ...]) -> tuple[Node, KeyOrIndex]:
    parent = document
    for part in at[:-1]:
        parent = parent[part]  # type: ignore[index]
    assert isinstance(parent, dict | list)
    return parent, at[-1]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The shipped config with one to three mutations, as YAML text (or raw text edits)."""
    document = base_document()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.sampled_from(PLACES))
        try:
            parent, key = parent_and_key(document, at)
        except (KeyError, IndexError, TypeError, AssertionError):
            continue  # an earlier mutation removed or replaced this place
        if isinstance(parent, list) and not (isinstance(key, int) and key < len(parent)):
            continue
        if isinstance(parent, dict) and key not in parent:
            continue
        action = draw(st.sampled_from(["delete", "replace", "swap", "unknown", "rename"]))
        current = parent[key]  # type: ignore[index]
        if action == "delete":
            del parent[key]  # type: ignore[arg-type]
        elif action == "replace":
            parent[key] = draw(hostile)  # type: ignore[index]
        elif action == "swap":  # the same value, another type
            parent[key] = draw(  # type: ignore[index]
                st.sampled_from([str(current), [current], {"value": current}, 1, True])
            )
        elif action == "unknown" and isinstance(current, dict):
            current[draw(st.text(min_size=1, max_size=20))] = draw(hostile)
        elif action == "rename" and isinstance(parent, dict) and isinstance(key, str):
            parent[key + draw(st.text("abcxyz_", min_size=1, max_size=2))] = parent.pop(key)
    text = yaml.safe_dump(document, allow_unicode=draw(st.booleans()), sort_keys=False)
    if draw(st.integers(0, 9)) == 0:  # a raw edit: syntax errors, tabs, stray characters
        lines = text.splitlines()
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] += draw(st.sampled_from([":", " [", "\t", " #", " &a", " *zz", "'", "{"]))
        text = "\n".join(lines)
    return text


def assert_clean_error(error: ConfigError, path: Path) -> None:
    lines = str(error).splitlines()
    assert 1 <= len(lines) <= MAX_PROBLEMS + 1, str(error)[:2000]
    line_count = max(1, len(path.read_text().splitlines()))
    for line in lines:
        located = LOCATED.match(line)
        assert located, f"not file:line:column: {line[:300]!r}"
        assert located["file"] == str(path)
        assert 1 <= int(located["line"]) <= line_count + 1
        assert len(line) < 600, f"{len(line)} characters: {line[:300]!r}…"
        assert "Traceback" not in line and "pydantic" not in line.lower()
        assert line.isprintable()


def floats_in(value: object) -> Iterator[float]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from floats_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from floats_in(item)


def assert_usable(loaded: LoadedEnvironment) -> None:
    """What used to fail inside an item now cannot: the values the probes and suites use."""
    environment = loaded.environment
    for targets_of in TARGET_FIXTURES.values():
        assert all(target.id for target in targets_of(environment))
    assert all(math.isfinite(number) for number in floats_in(environment.model_dump()))
    now = time.monotonic()
    assert now + environment.convergence.timeout < now + 366 * 86400 + 1
    for name, service in environment.services.items():
        url = getattr(service, "url", None) or getattr(service, "dsn", None)
        if url is not None:
            parts = urlsplit(url)
            assert parts.port is None or 1 <= parts.port <= 65535, (name, url)
            assert parts.hostname
            parts.hostname.encode("idna")  # what the socket module does with every name
        if getattr(service, "tls", None) is not None:
            datetime.now(UTC) + timedelta(days=service.tls.min_days)  # type: ignore[union-attr]
    for step in environment.smoke:
        service = environment.services[step.service]
        headers = {**service.headers, **step.request.headers}  # type: ignore[union-attr]
        url = endpoint_url(service, step.request.path)  # type: ignore[arg-type]
        request = httpx.Request(step.request.method, url, headers=headers)
        request.url.host.encode("idna")
    for host in environment.services_of(type(environment.services["host"])).values():
        assert all(1 <= port <= 65535 for port in host.private_ports)


def test_the_unmutated_base_loads_and_is_usable(tmp_path: Path) -> None:
    # guards the fuzz below against testing nothing but errors
    path = tmp_path / "opsproof.yaml"
    path.write_text(literal_shipped_config())
    assert_usable(load_environment(path, "reference", environ={}, stack=lambda: None))


@fuzz
@given(text=mutated())
def test_a_mutated_config_loads_usable_or_fails_cleanly(tmp_path: Path, text: str) -> None:
    path = tmp_path / "opsproof.yaml"
    path.write_text(text)
    started = time.process_time()
    try:
        loaded = load_environment(path, "reference", environ={}, stack=lambda: None)
    except ConfigError as error:
        assert time.process_time() - started < BUDGET_S
        assert_clean_error(error, path)
        event("a located error")
        return
    assert time.process_time() - started < BUDGET_S
    assert_usable(loaded)
    event("loaded and usable")


@pytest.mark.parametrize("environment", ["reference", "reference-docker"])
def test_both_shipped_environments_load_written_out(tmp_path: Path, environment: str) -> None:
    path = tmp_path / "opsproof.yaml"
    path.write_text(literal_shipped_config())
    assert load_environment(path, environment, environ={}, stack=lambda: None).name == environment
