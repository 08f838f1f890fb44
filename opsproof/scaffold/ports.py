"""Compose's ``ports:`` entries: which host port reaches which container port.

Short syntax ``[IP:][HOST:]CONTAINER[/PROTOCOL]`` (``127.0.0.1:8080:80``, ``[::1]:6001:6001``,
``${WEB_PORT:-8080}:80``, ``8000-8010:8000-8010``) and the long syntax mapping. PyYAML reads YAML
1.1, where an unquoted ``3000:30`` is the base-60 number 180030: that number is read back as
``3000:30``, which is what compose (YAML 1.2) reads.
"""

from dataclasses import dataclass

from opsproof.scaffold.variables import split_outside_references

SEXAGESIMAL_FLOOR = 65536
"""An integer port entry at least this big can only be YAML 1.1's reading of ``HOST:CONTAINER``."""


@dataclass(frozen=True)
class Published:
    """One port entry; ``host`` is None when the engine picks a free host port."""

    container: str
    host: str | None = None
    host_ip: str | None = None
    protocol: str = "tcp"

    def container_port(self) -> int | None:
        """The container port as a number, when it is one port written literally."""
        return int(self.container) if self.container.isdigit() else None


def published(entry: object) -> Published:
    """One ``ports:`` entry; raises ValueError saying what is expected."""
    if isinstance(entry, bool):
        raise ValueError("expected a port mapping such as '8080:80'")
    if isinstance(entry, int):
        if entry >= SEXAGESIMAL_FLOOR:
            host, container = divmod(entry, 60)
            return Published(str(container), str(host))
        return Published(str(entry))
    if isinstance(entry, dict):
        return _long_syntax(entry)
    if isinstance(entry, str):
        return _short_syntax(entry.strip())
    raise ValueError("expected a port mapping such as '8080:80' or {target: 80, published: 8080}")


def _long_syntax(entry: dict[object, object]) -> Published:
    target = entry.get("target")
    if target is None or isinstance(target, bool):
        raise ValueError("the long syntax needs target: the container port")
    host = entry.get("published")
    host_ip = entry.get("host_ip")
    return Published(
        str(target),
        None if host is None or host == "" else str(host),
        None if host_ip is None else str(host_ip),
        str(entry.get("protocol", "tcp")),
    )


def _short_syntax(text: str) -> Published:
    spec, _, protocol = text.partition("/")
    host_ip = None
    if spec.startswith("["):
        address, _, spec = spec[1:].partition("]")
        host_ip, spec = address, spec.removeprefix(":")
    parts = split_outside_references(spec, ":")
    if host_ip is None and len(parts) == 3:
        host_ip, parts = parts[0], parts[1:]
    if not spec or len(parts) > 2 or not all(parts[-1:]):
        raise ValueError(f"cannot read port mapping {text!r}; write [IP:]HOST:CONTAINER")
    host = parts[0] if len(parts) == 2 and parts[0] else None
    return Published(parts[-1], host, host_ip or None, protocol or "tcp")
