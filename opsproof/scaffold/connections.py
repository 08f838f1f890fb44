"""The URL or DSN of a redis or postgres service, preferably the one its clients already use:
a ``redis://`` or ``postgresql://`` URL in another service's environment that names it (by
service or container name, or by its port on the loopback), rewritten to where opsproof reaches
it. Passwords written in the compose file become variables: opsproof keeps secrets out of its
config.
"""

import re
from dataclasses import dataclass

from opsproof.scaffold.compose import ComposeFile, ComposeService
from opsproof.scaffold.reach import LOOPBACK, Reach, variable_name
from opsproof.scaffold.variables import convert, literal

_URL = re.compile(
    r"^(?P<scheme>[a-z]+)://(?:(?P<userinfo>[^@/]*)@)?(?P<host>\[[^\]]*\]|[^:/?#]*)"
    r"(?::(?P<port>[^/?#]*))?(?P<rest>[/?#].*)?$"
)
SCHEMES = {"redis": ("redis", "rediss"), "postgres": ("postgresql", "postgres")}


@dataclass(frozen=True)
class Connection:
    url: str
    guesses: tuple[str, ...]


def connection(compose: ComposeFile, service: ComposeService, kind: str, at: Reach) -> Connection:
    found = _from_clients(compose, service, kind, at)
    if found is not None:
        return found
    if kind == "redis":
        return _redis(service, at)
    return _postgres(service, at)


def _from_clients(
    compose: ComposeFile, service: ComposeService, kind: str, at: Reach
) -> Connection | None:
    names = {service.name, service.container_name}
    ports = {p.container for p in service.ports} | {str(at.number)}
    for client in compose.services:
        for variable, value in client.environment.items():
            match = _URL.match(value.strip())
            if match is None or match.group("scheme") not in SCHEMES[kind]:
                continue
            host, port = match.group("host"), match.group("port") or ""
            local = host in (LOOPBACK, "localhost") and (not port or port in ports)
            if host not in names and not local:
                continue
            userinfo, guesses = _userinfo(match.group("userinfo"), service)
            rest = match.group("rest") or ""
            url = f"{match.group('scheme')}://{userinfo}{at.host}:{at.port}{rest}"
            why = f"GUESS: confirm: the URL {client.name} is given in {variable}, "
            why += "pointed at where opsproof reaches it"
            return _converted(url, (*at.guesses, why, *guesses))
    return None


def _converted(url: str, guesses: tuple[str, ...]) -> Connection:
    """Compose references rewritten (opsproof's own are already in its grammar), and what could
    not be carried over said beside the guesses."""
    converted = convert(url)
    return Connection(converted.text, (*guesses, *converted.notes))


def _userinfo(userinfo: str | None, service: ComposeService) -> tuple[str, tuple[str, ...]]:
    if not userinfo:
        return "", ()
    user, colon, password = userinfo.partition(":")
    if not colon or literal(password) is None:
        return f"{userinfo}@", ()
    variable = variable_name(service.name, "PASSWORD")
    guess = f"export {variable}: compose writes the password, opsproof keeps it out of its file"
    return f"{user}:${{{variable}}}@", (guess,)


def _redis(service: ComposeService, at: Reach) -> Connection:
    words = list(service.command)
    password = words[words.index("--requirepass") + 1] if "--requirepass" in words[:-1] else None
    password = password or service.environment.get("REDIS_PASSWORD")
    guesses = list(at.guesses)
    auth = ""
    if password:
        auth, more = _userinfo(f":{password}", service)
        guesses += more
    return _converted(f"redis://{auth}{at.host}:{at.port}/0", tuple(guesses))


def _postgres(service: ComposeService, at: Reach) -> Connection:
    env = service.environment
    user = env.get("POSTGRES_USER") or "postgres"
    database = env.get("POSTGRES_DB") or user
    password = env.get("POSTGRES_PASSWORD")
    guesses = [*at.guesses, "GUESS: confirm user and database (the image's POSTGRES_* settings)"]
    if env.get("POSTGRES_HOST_AUTH_METHOD") == "trust":
        auth = f"{user}@"
    elif password:
        auth, more = _userinfo(f"{user}:{password}", service)
        guesses += more
    else:
        variable = variable_name(service.name, "PASSWORD")
        auth = f"{user}:${{{variable}}}@"
        guesses.append(f"GUESS: compose shows no password; export {variable}")
    url = f"postgresql://{auth}{at.host}:{at.port}/{database}"
    return _converted(url, tuple(guesses))
