"""Config values validated to their meaning, so that no probe meets one it cannot use.

Each type rejects at load time, with the file, line and key, what the code using the value
would otherwise fail on in the middle of a run: a YAML boolean read as a number
(``min_days: yes`` is 1), NaN or infinity, a port outside 1–65535, an empty path (which
``Path`` reads as "."), a URL whose port is not a number or whose host the socket module
cannot encode, a header value httpx cannot send, a request path with a line break.
"""

import ipaddress
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import SplitResult, urlsplit

import idna
from pydantic import AfterValidator, BeforeValidator, ByteSize, Field
from pydantic_core import PydanticCustomError

from opsproof.config.problems import excerpt

DEFAULT_MAX_BODY = 4 << 20
"""The largest response body (after decompression) a probe reads unless ``max_body`` says."""

MAX_BYTES = 1 << 50
"""1 PiB: more than any memory limit or disk fill; larger sizes are typos."""
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
"""RFC 9110 token characters: all a header name may hold."""


def _not_bool(value: object) -> object:
    # pydantic's lax mode reads true as 1, and YAML reads yes/no/on/off as booleans
    if isinstance(value, bool):
        raise ValueError("expected a number")
    return value


Number = Annotated[float, BeforeValidator(_not_bool), Field(allow_inf_nan=False)]
"""A finite number; never a boolean."""
Whole = Annotated[int, BeforeValidator(_not_bool)]
"""A whole number; never a boolean."""
Version = Annotated[Literal[1], BeforeValidator(_not_bool)]
"""The file format's version (``version: true`` would equal 1 in Python)."""


def _port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise ValueError("a port is a number from 1 to 65535")
    return port


Port = Annotated[int, BeforeValidator(_not_bool), AfterValidator(_port)]


def _status(status: int) -> int:
    if not 100 <= status <= 599:
        raise ValueError("an HTTP status is a number from 100 to 599")
    return status


HttpStatus = Annotated[int, BeforeValidator(_not_bool), AfterValidator(_status)]

_STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


def _expected_status(value: object) -> object:
    """One status, a list of them, or a class: kept as a class name or a tuple of statuses."""
    fix = "write a status (200), a list of them ([200, 201]) or a class (2xx, 5xx)"
    if isinstance(value, str) and value.lower() in _STATUS_CLASSES:
        return value.lower()
    items = value if isinstance(value, list) else [value]
    if not items or not all(type(item) is int for item in items):
        raise ValueError(f"{value!r} is not a status; {fix}")
    return tuple(_status(int(str(item))) for item in items)


ExpectedStatus = Annotated[str | tuple[int, ...], BeforeValidator(_expected_status)]
"""``200``, ``[200, 201]`` or ``2xx``: a class name or the statuses allowed."""


def status_matches(expected: str | tuple[int, ...], status: int) -> bool:
    """Whether ``status`` is one of the expected statuses or in the expected class."""
    if isinstance(expected, str):
        return str(status)[0] == expected[0]
    return status in expected


def status_text(expected: str | tuple[int, ...]) -> str:
    """The expectation as people write it: ``2xx``, ``202``, ``200 or 201``."""
    if isinstance(expected, str):
        return expected
    return " or ".join(map(str, expected))


def _bytes(size: ByteSize) -> ByteSize:
    if size > MAX_BYTES:
        raise ValueError("a size is at most 1PiB")
    return size


def _size_text(value: object) -> object:
    """pydantic's own words ("could not parse value and unit from byte string") give no fix."""
    value = _not_bool(value)
    try:
        if ByteSize._validate(value, None) < 0:  # type: ignore[arg-type]
            raise ValueError("negative")
    except (PydanticCustomError, ValueError, TypeError):
        raise ValueError(
            "not a size; write a number of bytes or one with a unit: 512KiB, 48MiB, 1GB"
        ) from None
    return value


Bytes = Annotated[ByteSize, BeforeValidator(_size_text), AfterValidator(_bytes)]
"""A size such as ``48MiB`` or a number of bytes, at most 1 PiB."""


def _path_text(value: object) -> object:
    if not isinstance(value, str | Path):
        kind = (
            "a list"
            if isinstance(value, list)
            else "a mapping"
            if isinstance(value, dict)
            else type(value).__name__
        )
        raise ValueError(f"expected a path, such as /var/lib/app; got {kind}")
    if isinstance(value, str) and not value.strip():
        raise ValueError("a path cannot be empty (it would mean the current directory); write one")
    if isinstance(value, str) and "\0" in value:
        raise ValueError("a path cannot contain a NUL character")
    return value


FilePath = Annotated[Path, BeforeValidator(_path_text)]
"""A non-empty path without NUL characters."""


def _control_at(text: str) -> int | None:
    """The index of the first control character (C0, DEL, C1) or line break, if any."""
    return next((i for i, c in enumerate(text) if ord(c) < 32 or 127 <= ord(c) < 160), None)


def _request_path(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError("a request path starts with '/'")
    if (at := _control_at(path)) is not None:
        raise ValueError(
            f"a request path cannot contain a line break or control character "
            f"({excerpt(path[at])} at character {at + 1}); percent-encode it"
        )
    return path


RequestPath = Annotated[str, AfterValidator(_request_path)]
"""``/health``: starts with a slash, one line, no control characters."""


def _flow_path(path: str) -> str:
    """A flow's path may start with a captured variable (a Location header's path)."""
    return _request_path("/" + path)[1:] if path.startswith("${") else _request_path(path)


FlowPath = Annotated[str, AfterValidator(_flow_path)]
"""A request path, or one that starts with ``${variable}`` (checked again once filled in)."""


def _json_path(path: str) -> str:
    """A dotted path as it is; a JSONPath (``$…``) must parse, so a typo fails at load time."""
    if not path:
        raise ValueError("a JSON path cannot be empty: write items.0.id or $.items[0].id")
    if path.startswith("$"):
        # imported here, as httpx is below: a load worker validates its plan with these models
        # and each process would pay for the import
        from jsonpath_ng.ext.parser import parse as parse_jsonpath

        try:
            parse_jsonpath(path)
        except Exception as exc:  # jsonpath-ng's lexer raises bare Exceptions
            why = " ".join(str(exc).split())[:120]
            raise ValueError(f"not a JSONPath ({why}); write e.g. $.items[0].id") from None
    return path


JsonPath = Annotated[str, AfterValidator(_json_path)]
"""A dotted path (``items.0.id``) or a JSONPath (``$.items[0].id``) into a JSON body."""


def _header_name(name: str) -> str:
    if not name or any(c not in _TOKEN for c in name):
        raise ValueError(
            "a header name is letters, digits and !#$%&'*+-.^_`|~ (no spaces, colons or "
            "non-ASCII characters)"
        )
    return name


def _header_value(value: str) -> str:
    # values are secrets: say where the fault is, never what the value is
    for at, char in enumerate(value):
        if char != "\t" and not " " <= char <= "~":
            if char in "\r\n":  # typically a value read from a file, with its last newline
                what = "a line break"
            else:
                what = f"the character {char!r}" + ("" if char.isprintable() else " (control)")
            raise ValueError(
                f"a header value is printable ASCII on one line; this one has {what} at "
                f"character {at + 1}"
            )
    return value


HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderValue = Annotated[str, AfterValidator(_header_value)]
Headers = dict[HeaderName, HeaderValue]


def hostname_problem(host: str) -> str | None:
    """Why ``host`` cannot be looked up, or None. The socket module encodes every name with
    the ``idna`` codec (a label is 1–63 characters), and httpx encodes a non-ASCII name (and
    decodes an ``xn--`` one) with the ``idna`` package; each failure would otherwise surface
    inside a probe."""
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if _control_at(host) is not None or " " in host:
        return f"host name {excerpt(host)} contains a space or control character"
    try:
        ascii_host = host if host.isascii() else idna.encode(host.lower()).decode("ascii")
        if "xn--" in ascii_host.lower():  # httpx decodes these to show a URL's host
            idna.decode(ascii_host.lower())
    except idna.IDNAError as exc:
        return f"host name {excerpt(host)} is not a valid international name ({exc})"
    labels = ascii_host.removesuffix(".").split(".")
    if len(ascii_host) > 253:
        return f"host name {excerpt(host)} is {len(ascii_host)} characters; at most 253"
    for label in labels:
        if not 1 <= len(label) <= 63:
            size = "an empty label" if not label else f"a label of {len(label)} characters"
            return f"host name {excerpt(host)} has {size}; each is 1 to 63 characters"
    return None


def _hostname(host: str) -> str:
    if problem := hostname_problem(host):
        raise ValueError(problem)
    return host


Hostname = Annotated[str, AfterValidator(_hostname)]


def _split(url: str, schemes: tuple[str, ...], example: str) -> SplitResult:
    """``url`` split, with the problems every client would meet named; the URL itself is not
    quoted, as it may carry a password."""
    expected = f"expected a URL such as {example}"
    if (at := _control_at(url)) is not None or " " in url.strip():
        where = f"character {at + 1}" if at is not None else f"character {url.find(' ') + 1}"
        raise ValueError(f"{expected}; this one has a space or control character at {where}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed '[' of an IPv6 address
        raise ValueError(f"{expected}; {exc}") from None
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        written = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        raise ValueError(f"{expected}; its port {excerpt(written)} is not a number from 1 to 65535")
    if problem := hostname_problem(parts.hostname):
        raise ValueError(problem)
    return parts


def http_url(url: str) -> str:
    """An http(s) URL httpx accepts."""
    import httpx  # 0.1 s of import that a load worker, which checks no URL, does not pay

    _split(url, ("http", "https"), "https://api.example.com:8443")
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, idna.IDNAError, ValueError) as exc:
        raise ValueError(f"expected a URL httpx can request: {exc}") from None
    return url


def redis_url(url: str) -> str:
    """redis:// or rediss://, with a database number if a path is given."""
    parts = _split(url, ("redis", "rediss"), "redis://:password@host:6379/0")
    database = parts.path.strip("/")
    if database and not database.isdigit():
        raise ValueError(f"the database is a number (redis://host:6379/0); got {excerpt(database)}")
    return url


def postgres_dsn(dsn: str) -> str:
    """postgresql:// or postgres://; a multi-host DSN (``h1:5432,h2:5432``) is left to libpq."""
    schemes = ("postgresql", "postgres")
    hosts = dsn.partition("://")[2].partition("/")[0].rpartition("@")[2]
    if "," in hosts and _control_at(dsn) is None:
        if dsn.partition("://")[0] not in schemes:
            raise ValueError("expected a URL starting with postgresql:// or postgres://")
        return dsn
    _split(dsn, schemes, "postgresql://user:password@host:5432/db")
    return dsn


def ssh_url(url: str) -> str:
    """``ssh://user@host[:port]``: a user is required (no guessing from the runner's login) and
    a password is refused (keys only)."""
    parts = _split(url, ("ssh",), "ssh://deploy@db1.example.com:22")
    if not parts.username:
        raise ValueError("name the user: ssh://user@host:port")
    if parts.password is not None:
        raise ValueError("an ssh:// URL carries no password: use a key (ssh.identity_file)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("expected ssh://user@host:port, with no path or query")
    return url


def host_port(listen: str) -> str:
    """``host:port`` to listen on."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected host:port with a port from 1 to 65535, e.g. 127.0.0.1:9099")
    if problem := hostname_problem(host.removeprefix("[").removesuffix("]")):
        raise ValueError(problem)
    return listen
