"""Compose files as teams write them: references rewritten in opsproof's grammar, port mappings
in every syntax (YAML 1.1's base-60 reading of an unquoted ``3000:30`` undone), problems
located."""

from pathlib import Path

import pytest

from opsproof.errors import ConfigError
from opsproof.scaffold.compose import read_compose
from opsproof.scaffold.ports import Published
from opsproof.scaffold.variables import convert


@pytest.mark.parametrize(
    ("compose", "opsproof_form"),
    [
        ("${DB_PASSWORD:?set it in .env}", "${DB_PASSWORD}"),
        ("${DB_PASSWORD?unset}", "${DB_PASSWORD}"),
        ("$DB_PASSWORD", "${DB_PASSWORD}"),
        ("${PORT-8080}", "${PORT:-8080}"),
        ("http://web:${PORT:-8000}/health", "http://web:${PORT:-8000}/health"),
        ("pass$$word", "pass$$word"),
    ],
)
def test_compose_references_become_opsproof_references(compose: str, opsproof_form: str) -> None:
    converted = convert(compose)
    assert converted.text == opsproof_form
    assert converted.notes == ()


@pytest.mark.parametrize(
    "compose", ["${TLS:+https}", "${PORT:-${DEFAULT_PORT}}"], ids=["alternate", "nested"]
)
def test_what_opsproof_cannot_express_is_said(compose: str) -> None:
    converted = convert(compose)
    assert converted.text.startswith("${") and ":-${" not in converted.text
    assert len(converted.notes) == 1


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "compose.yaml"
    path.write_text(text)
    return path


def test_every_port_syntax_is_read(tmp_path: Path) -> None:
    compose = write(
        tmp_path,
        """\
services:
  web:
    image: nginx
    ports:
      - 3000:30
      - "127.0.0.1:8080:80"
      - "[::1]:6001:6001"
      - "${WEB_PORT:-8443}:443/tcp"
      - 9000
      - {target: 81, published: "8081", host_ip: 127.0.0.2}
""",
    )
    (web,) = read_compose(compose).services
    assert web.ports == (
        Published("30", "3000"),
        Published("80", "8080", "127.0.0.1"),
        Published("6001", "6001", "::1"),
        Published("443", "${WEB_PORT:-8443}"),
        Published("9000"),
        Published("81", "8081", "127.0.0.2"),
    )


def test_anchors_and_merge_keys_are_expanded(tmp_path: Path) -> None:
    compose = write(
        tmp_path,
        """\
x-app: &app
  image: shop/app
  depends_on: {db: {condition: service_healthy}}
services:
  web:
    <<: *app
    command: gunicorn app --bind 0.0.0.0:8000
  db:
    image: postgres:16
""",
    )
    web, _ = read_compose(compose).services
    assert (web.image, web.depends_on, web.command[0]) == ("shop/app", ("db",), "gunicorn")


def test_each_problem_is_one_located_line(tmp_path: Path) -> None:
    compose = write(
        tmp_path,
        """\
services:
  web:
    image: nginx
    ports: ["1:2:3:4", 80]
  db: postgres
""",
    )
    with pytest.raises(ConfigError) as caught:
        read_compose(compose)
    assert str(caught.value).splitlines() == [
        f"{compose}:4:13: services.web.ports[0]: cannot read port mapping '1:2:3:4'; write "
        "[IP:]HOST:CONTAINER",
        f"{compose}:5:7: services.db: expected a mapping of this service's settings (image:, "
        "ports:, ...)",
    ]


def test_a_file_without_services_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="declares its services under 'services:'"):
        read_compose(write(tmp_path, "version: '3'\n"))
