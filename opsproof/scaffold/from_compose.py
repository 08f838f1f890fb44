"""``opsproof init --from docker-compose.yml``: one environment whose services, health checks,
container runtimes and starter chaos plan are read off a compose file, every guess marked.

The chaos plan kills one dependency of the web service (Redis before PostgreSQL) with the web
service's health check as the steady state, under ``chaos: forbidden``: nothing runs until the
user has confirmed it and opted in.
"""

import re
from dataclasses import dataclass

from opsproof.scaffold.compose import ComposeFile, ComposeService
from opsproof.scaffold.connections import connection
from opsproof.scaffold.kinds import Kind, kind_of
from opsproof.scaffold.reach import Reach, health_url, reach, variable_name
from opsproof.scaffold.render import Commented, render
from opsproof.scaffold.variables import convert

_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_]\w*)(?P<default>:-[^}]*)?\}")
DATA_KINDS = ("redis", "postgres")


@dataclass(frozen=True)
class Declared:
    """A compose service declared as an opsproof service."""

    service: ComposeService
    kind: Kind
    settings: dict[str, object]


def scaffold_from_compose(
    compose: ComposeFile, environment: str, shown_path: str, output: str = "FILE"
) -> str:
    """The commented opsproof.yaml text for ``compose`` as environment ``environment``, to be
    written to ``output`` (named in the commands its header shows)."""
    project = _project(compose)
    declared: list[Declared] = []
    left_out: list[str] = []
    for service in compose.services:
        kind = kind_of(service)
        if kind.kind is None:
            left_out.append(f"{service.name} ({kind.evidence})")
            continue
        declared.append(Declared(service, kind, _settings(compose, service, kind, project)))
    services: dict[str, object] = {d.service.name: d.settings for d in declared}
    not_declared = (
        (f"Not declared: {', '.join(left_out)}: opsproof has no kind for them.",)
        if left_out
        else ()
    )
    settings: dict[str, object] = {
        "description": f"the compose project {project.text} ({shown_path})",
        "services": Commented(services, comment=not_declared),
    }
    settings |= _chaos(declared)
    document: dict[str, object] = {"version": 1, "environments": {environment: settings}}
    return render(document, _header(document, environment, shown_path, output))


@dataclass(frozen=True)
class _Project:
    text: str
    guessed: bool


def _project(compose: ComposeFile) -> _Project:
    if compose.project:
        return _Project(convert(compose.project).text, guessed=False)
    directory = compose.path.absolute().parent.name.lower()
    return _Project(re.sub(r"[^a-z0-9_-]", "", directory) or "project", guessed=True)


def _settings(
    compose: ComposeFile, service: ComposeService, kind: Kind, project: _Project
) -> dict[str, object]:
    settings: dict[str, object] = {"kind": Commented(kind.kind, comment=_kind_comment(kind))}
    if kind.kind == "process":  # alive through its container; a health command is the user's
        settings["runtime"] = _runtime(service, project)
        return settings
    at = reach(service, kind)
    if kind.kind in DATA_KINDS:
        found = connection(compose, service, str(kind.kind), at)
        key = "url" if kind.kind == "redis" else "dsn"
        settings[key] = Commented(found.url, comment=found.guesses)
    else:
        settings["url"] = Commented(f"{at.scheme}://{at.host}:{at.port}", comment=at.guesses)
    if kind.kind == "redis":
        settings |= _redis_checks(service)
    if kind.kind == "http":
        settings |= _http_checks(compose, service, at)
    settings["runtime"] = _runtime(service, project)
    return settings


def _redis_checks(service: ComposeService) -> dict[str, object]:
    """A lone Redis is a master; the eviction policy its command sets is the one to expect."""
    checks: dict[str, object] = {
        "expect_role": Commented(
            "master", comment=("GUESS: confirm it is a master (slave for a replica)",)
        )
    }
    words = list(service.command)
    if "--maxmemory-policy" in words[:-1]:
        checks["expect_eviction_policy"] = words[words.index("--maxmemory-policy") + 1]
    return checks


def _kind_comment(kind: Kind) -> tuple[str, ...]:
    if kind.guessed:
        return (f"GUESS: confirm the kind ({kind.evidence})",)
    return ()


def _http_checks(compose: ComposeFile, service: ComposeService, at: Reach) -> dict[str, object]:
    url = health_url(service)
    checks: dict[str, object] = {}
    if url is not None:
        checks["health"] = Commented({"path": url.path}, flow=True)
    else:
        upstream = _upstream_health(compose, service)
        path = upstream or "/health"
        why = "the health path of the service it forwards to" if upstream else "a common path"
        comment = f"GUESS: confirm the health path (compose has no HTTP health check; {why})"
        checks["health"] = Commented({"path": path}, comment=(comment,), flow=True)
    if at.scheme == "https":
        variable = variable_name(service.name, "CA_FILE")
        # requests trust ca_file; the certificate checks (tls:) verify the chain against their own
        checks["ca_file"] = Commented(
            f"${{{variable}}}",
            comment=(
                f"GUESS: a private or self-signed CA signed its certificate: export {variable} "
                "(the CA's PEM file); delete ca_file and tls.ca_file if a public CA signed it",
            ),
        )
        checks["tls"] = Commented({"ca_file": f"${{{variable}}}"}, flow=True)
    return checks


def _upstream_health(compose: ComposeFile, service: ComposeService) -> str | None:
    """The health path of the first service ``service`` depends on that has an HTTP one."""
    by_name = {s.name: s for s in compose.services}
    for name in service.depends_on:
        upstream = by_name.get(name)
        url = health_url(upstream) if upstream else None
        if url is not None:
            return url.path
    return None


def _runtime(service: ComposeService, project: _Project) -> Commented:
    if service.container_name:
        converted = convert(service.container_name)
        container, comment = converted.text, converted.notes
    else:
        container = f"{project.text}-{service.name}-1"
        how = "the directory's name" if project.guessed else "name:"
        comment = (
            f"GUESS: confirm the container name (compose's <project>-<service>-1, the project "
            f"from {how}; docker ps shows it)",
        )
    return Commented({"docker": {"container": container}}, comment=comment, flow=True)


def _chaos(declared: list[Declared]) -> dict[str, object]:
    """``chaos: forbidden`` and, when a web service depends on a redis or postgres service,
    a plan that kills that dependency."""
    kinds = {d.service.name: d.kind.kind for d in declared}
    choice = None
    for web in (d for d in declared if d.kind.kind == "http" and not d.kind.proxy):
        deps = [name for name in web.service.depends_on if kinds.get(name) in DATA_KINDS]
        deps.sort(key=lambda name: DATA_KINDS.index(str(kinds[name])))
        if deps:
            choice = (web.service.name, deps[0])
            break
    forbidden = Commented(
        "forbidden",
        comment=(
            "Nothing runs until you confirm the plan below and write chaos: allowed; then "
            "`opsproof config check --env NAME` also checks each fault can be undone here.",
        ),
    )
    if choice is None:
        why = (
            "No starter chaos plan: no http service here (a proxy such as nginx aside) "
            "depends_on a redis or postgres service. A chaos_plan and chaos: allowed opt in.",
        )
        return {"chaos": Commented("forbidden", comment=why)}
    web_name, dependency = choice
    experiment = {
        "name": f"{dependency} killed, {web_name} recovers",
        "fault": Commented({"action": "kill", "service": dependency}, flow=True),
    }
    plan = {
        "may_hit": Commented([dependency], flow=True),
        "steady_state": Commented(
            [web_name],
            comment=(f"{web_name}'s health check must pass before the fault and again after it",),
            flow=True,
        ),
        "experiments": Commented(
            [experiment],
            comment=(
                f"GUESS: confirm {web_name} depends on {dependency} (depends_on) and should come "
                f"back once it restarts; add expect: how {web_name} must answer while it is down, "
                "e.g. a 503 within 1s",
            ),
        ),
    }
    return {"chaos": forbidden, "chaos_plan": plan}


def _header(
    document: dict[str, object], environment: str, shown_path: str, output: str
) -> tuple[str, ...]:
    required, optional = _variables(document)
    lines = [
        f"opsproof config written by `opsproof init --from {shown_path}`.",
        "Lines marked 'GUESS: confirm …' are opsproof's guesses: check each against your "
        "deployment, fix it, and delete the mark.",
        "${NAME} is read from the environment when the file is loaded (compose's .env file is "
        "not: `set -a; . ./.env; set +a` exports it); ports are written ${SERVICE_PORT:-port} so "
        "a host that publishes other ports sets SERVICE_PORT.",
        "A service that is not a container: runtime: {process: {match: TEXT OF ITS COMMAND LINE, "
        "start: [program, arg, ...]}}.",
    ]
    if required:
        lines.append(f"Needed before a run: export {' '.join(f'{n}=...' for n in required)}")
    if optional:
        lines.append(f"Optional: {', '.join(optional)}")
    lines += [
        f"Check it: opsproof config check --config {output} --env {environment}",
        f"Verify the deployment: opsproof run gate --config {output} --env {environment}",
    ]
    return tuple(lines)


def _variables(value: object) -> tuple[list[str], list[str]]:
    """The variables the document reads: those without a default, then those with one."""
    required: dict[str, None] = {}
    optional: dict[str, None] = {}

    def walk(item: object) -> None:
        if isinstance(item, Commented):
            walk(item.value)
        elif isinstance(item, dict):
            for part in item.values():
                walk(part)
        elif isinstance(item, list):
            for part in item:
                walk(part)
        elif isinstance(item, str):
            for match in _REFERENCE.finditer(item):
                target = optional if match.group("default") else required
                target[match.group("name")] = None

    walk(value)
    return list(required), [name for name in optional if name not in required]
