"""A compose file, read for what opsproof needs: each service's image, container name, ports,
network mode, health check, command, environment, volumes and dependencies.

It is read like an opsproof.yaml (bounded, duplicate keys refused, anchors and ``<<`` merge keys
expanded, every problem located as ``file:line:col: key: problem``); values are kept as written,
``${VAR}`` references included, and only the keys read here are checked.
"""

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from opsproof.config.problems import KeyPath, Problem, config_error
from opsproof.config.reading import read_config_text
from opsproof.config.source import ParsedFile, parse
from opsproof.errors import ConfigError
from opsproof.scaffold.ports import Published, published


@dataclass(frozen=True)
class Healthcheck:
    """The health check's command as words (a shell command is split like a shell would)."""

    words: tuple[str, ...]


@dataclass(frozen=True)
class ComposeService:
    name: str
    image: str | None = None
    container_name: str | None = None
    ports: tuple[Published, ...] = ()
    network_mode: str | None = None
    healthcheck: Healthcheck | None = None
    command: tuple[str, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)
    volumes: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    restart: str | None = None

    @property
    def host_network(self) -> bool:
        return self.network_mode == "host"


@dataclass(frozen=True)
class ComposeFile:
    path: Path
    project: str | None
    """``name:`` at the top, as written (compose's default is the directory's name)."""
    services: tuple[ComposeService, ...]


def read_compose(path: Path) -> ComposeFile:
    """The compose file at ``path``; raises ConfigError listing every problem, located."""
    if not path.exists():  # the config reader's own advice is about opsproof.yaml
        raise ConfigError(f"{path}: no such file; pass your compose file (docker-compose.yml)")
    parsed = parse(read_config_text(path), str(path))
    reader = _Reader(parsed)
    data = parsed.data if isinstance(parsed.data, dict) else {}
    services = data.get("services")
    if not isinstance(services, dict) or not services:
        reader.problem(("services",), "a compose file declares its services under 'services:'")
        services = {}
    found = tuple(
        reader.service(str(name), settings, ("services", str(name)))
        for name, settings in services.items()
    )
    if reader.problems:
        raise config_error(parsed.source, reader.problems)
    project = data.get("name")
    return ComposeFile(path, project if isinstance(project, str) else None, found)


class _Reader:
    def __init__(self, parsed: ParsedFile) -> None:
        self._parsed = parsed
        self.problems: list[Problem] = []

    def problem(self, at: KeyPath, message: str) -> None:
        self.problems.append(Problem(self._parsed.locate(at), at, message))

    def service(self, name: str, settings: object, at: KeyPath) -> ComposeService:
        if not isinstance(settings, dict):
            self.problem(at, "expected a mapping of this service's settings (image:, ports:, ...)")
            return ComposeService(name)
        return ComposeService(
            name=name,
            image=self._text(settings, "image", at),
            container_name=self._text(settings, "container_name", at),
            ports=self._ports(settings.get("ports") or [], (*at, "ports")),
            network_mode=self._text(settings, "network_mode", at),
            healthcheck=self._healthcheck(settings.get("healthcheck"), (*at, "healthcheck")),
            command=self._words(settings.get("command"), (*at, "command")),
            environment=self._environment(settings.get("environment") or {}, (*at, "environment")),
            volumes=self._volumes(settings.get("volumes") or [], (*at, "volumes")),
            depends_on=self._names(settings.get("depends_on") or [], (*at, "depends_on")),
            restart=self._text(settings, "restart", at),
        )

    def _text(self, settings: dict[str, object], key: str, at: KeyPath) -> str | None:
        value = settings.get(key)
        if value is None or isinstance(value, str):
            return value
        self.problem((*at, key), f"expected text, got {type(value).__name__}")
        return None

    def _ports(self, entries: object, at: KeyPath) -> tuple[Published, ...]:
        if not isinstance(entries, list):
            self.problem(at, "expected a list of port mappings such as '8080:80'")
            return ()
        found = []
        for index, entry in enumerate(entries):
            try:
                found.append(published(entry))
            except ValueError as error:
                self.problem((*at, index), str(error))
        return tuple(found)

    def _healthcheck(self, settings: object, at: KeyPath) -> Healthcheck | None:
        if settings is None:
            return None
        if not isinstance(settings, dict):
            self.problem(at, "expected a mapping with test:")
            return None
        if settings.get("disable") is True:
            return None
        test = settings.get("test")
        if isinstance(test, list) and test and test[0] in ("NONE",):
            return None
        if isinstance(test, list) and test and test[0] == "CMD-SHELL":
            test = " ".join(str(word) for word in test[1:])
        elif isinstance(test, list) and test and test[0] == "CMD":
            test = test[1:]
        words = self._words(test, (*at, "test"))
        return Healthcheck(words) if words else None

    def _words(self, value: object, at: KeyPath) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, list):
            return tuple(str(word) for word in value)
        if isinstance(value, str):
            try:
                return tuple(shlex.split(value))
            except ValueError:
                return tuple(value.split())
        self.problem(at, "expected a command as text or a list of words")
        return ()

    def _environment(self, value: object, at: KeyPath) -> dict[str, str]:
        if isinstance(value, dict):
            return {str(k): "" if v is None else str(v) for k, v in value.items()}
        if isinstance(value, list):
            pairs = (str(item).partition("=") for item in value)
            return {name: text for name, _, text in pairs}
        self.problem(at, "expected a mapping (NAME: value) or a list of NAME=value")
        return {}

    def _volumes(self, value: object, at: KeyPath) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.problem(at, "expected a list of volumes")
            return ()
        found = []
        for entry in value:
            if isinstance(entry, dict):
                found.append(f"{entry.get('source', '')}:{entry.get('target', '')}")
            else:
                found.append(str(entry))
        return tuple(found)

    def _names(self, value: object, at: KeyPath) -> tuple[str, ...]:
        if isinstance(value, dict | list):
            return tuple(str(name) for name in value)
        self.problem(at, "expected a list of service names, or a mapping of them to conditions")
        return ()
