"""The loader's own limits: what ``--config`` may name, how large a file and how far its aliases
may expand, secret scanning linear in the length of a value, and one parse per process."""

import os
import threading
import time
from pathlib import Path

import pytest

from opsproof.config import loader
from opsproof.config.loader import declared_stack, environment_names, load_environment
from opsproof.config.reading import MAX_CONFIG_BYTES
from opsproof.config.sensitive import url_passwords
from opsproof.config.source import MAX_ALIAS_VALUES
from opsproof.errors import ConfigError

SMALL = "version: 1\nenvironments:\n  e:\n    services: {}\n"


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_environment(path, "e", environ={})
    return str(caught.value)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "opsproof.yaml"
    os.mkfifo(fifo)
    outcome: list[str] = []

    def load() -> None:
        try:
            load_environment(fifo, "e", environ={})
        except ConfigError as error:
            outcome.append(str(error))

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():  # opened like a file, it waits for a writer: give it one
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=5)
        pytest.fail("loading a FIFO blocked")
    assert outcome == [
        f"{fifo}: is a named pipe (FIFO), not a file; pass the config file (a .yaml)"
    ]


def test_a_device_is_refused_before_reading(tmp_path: Path) -> None:
    started = time.monotonic()
    message = load_error(Path("/dev/zero"))
    assert message == "/dev/zero: is a character device, not a file; pass the config file (a .yaml)"
    assert time.monotonic() - started < 2


def test_a_directory_is_refused_in_one_line(tmp_path: Path) -> None:
    assert load_error(tmp_path) == (
        f"{tmp_path}: is a directory, not a file; pass the config file (a .yaml)"
    )


def test_a_file_larger_than_the_cap_is_refused_unparsed(tmp_path: Path) -> None:
    path = tmp_path / "opsproof.yaml"
    path.write_text(SMALL + "#" * MAX_CONFIG_BYTES + "\n")
    started = time.process_time()
    assert load_error(path).startswith(f"{path}: larger than 2 MiB")
    assert time.process_time() - started < 1


def test_bytes_that_are_not_utf8_are_located(tmp_path: Path) -> None:
    path = tmp_path / "opsproof.yaml"
    path.write_bytes(SMALL.encode() + b"    description: caf\xe9\n")
    assert load_error(path).startswith(f"{path}:5:21: byte 0xe9 is not UTF-8;")


BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
version: 1
environments: {e: {services: {}, description: *i}}
"""


def test_an_alias_bomb_stops_at_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "opsproof.yaml"
    path.write_text(BOMB)  # 10⁹ values when expanded
    started = time.process_time()
    message = load_error(path)
    assert time.process_time() - started < 2
    assert f"aliases here expand to more than {MAX_ALIAS_VALUES:,} values" in message
    assert message.count("\n") == 0


def test_reused_blocks_within_the_cap_load(tmp_path: Path) -> None:
    steps = "\n".join(f"      - {{<<: *step, name: s{i}}}" for i in range(200))
    path = tmp_path / "opsproof.yaml"
    path.write_text(
        "version: 1\nenvironments:\n  e:\n    services: {api: {kind: http, url: 'http://h'}}\n"
        "    x-step: &step {service: api, request: {path: /, headers: {A: b}}, expect: {}}\n"
        f"    smoke:\n{steps}\n"
    )
    message = load_error(path)  # only the unknown x-step key: the 200 merges are fine
    assert message.count("\n") == 0 and "x-step: unknown key" in message


def test_a_long_value_is_scanned_for_secrets_in_linear_time() -> None:
    started = time.process_time()
    for text in ("a" * 400_000, "x://" + "a" * 400_000, "://" * 130_000, "a:b@" * 100_000):
        url_passwords(text)
    assert time.process_time() - started < 1  # quadratic: 80 KB of letters took 6 s


def test_a_long_value_loads_in_linear_time(tmp_path: Path) -> None:
    path = tmp_path / "opsproof.yaml"
    path.write_text(SMALL + f"    description: 'see {'a' * 800_000} and http://u:pw@h'\n")
    started = time.process_time()
    assert load_environment(path, "e", environ={}).environment.description.startswith("see a")
    assert time.process_time() - started < 5


def test_the_file_is_parsed_once_however_often_asked(tmp_path: Path) -> None:
    path = tmp_path / "opsproof.yaml"
    path.write_text(SMALL + f"    description: {os.urandom(8).hex()}\n")
    before = loader._parse_once.cache_info().misses
    for _ in range(3):
        load_environment(path, "e", environ={})
        declared_stack(path, "e")
        environment_names(path)
    assert loader._parse_once.cache_info().misses == before + 1


def test_a_rewritten_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "opsproof.yaml"
    path.write_text(SMALL + "    description: one\n")
    assert load_environment(path, "e", environ={}).environment.description == "one"
    path.write_text(SMALL + "    description: two\n")  # same size, likely the same mtime
    assert load_environment(path, "e", environ={}).environment.description == "two"
