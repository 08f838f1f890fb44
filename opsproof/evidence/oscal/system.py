"""The system under test as a minimal OSCAL system security plan: components are the services.

A live run describes its environment from the loaded config (endpoints without credentials);
an export of a past run reads only the services' names and kinds from the config file it
names, without interpolating anything (its variables and the stack may be long gone).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from opsproof.config.loader import LoadedEnvironment
from opsproof.config.models import HostService, PostgresService, ProcessService
from opsproof.evidence.model import RunRecord
from opsproof.evidence.oscal.ids import Json, Uuids, control_token, prop
from opsproof.support.redact import Redactor, redact_url

THIS_SYSTEM = "this-system"


@dataclass(frozen=True)
class Component:
    name: str
    kind: str
    endpoint: str = ""
    """Where it was reached, without credentials or query; empty when not known."""


@dataclass(frozen=True)
class SystemDescription:
    environment: str
    description: str
    components: tuple[Component, ...]

    def uuids(self) -> Uuids:
        """Stable across runs of the environment: a month of runs names the same system."""
        return Uuids(f"system\x1f{self.environment}")


def describe_environment(
    loaded: LoadedEnvironment, redactor: Redactor | None = None
) -> SystemDescription:
    """The environment's services; ``redactor`` masks any secret left in names or endpoints."""
    mask = redactor.text if redactor else str
    components = []
    for name, service in loaded.environment.services.items():
        if isinstance(service, HostService):
            endpoint = service.backend
        elif isinstance(service, PostgresService):
            endpoint = redact_url(service.dsn, keep_query=False)
        elif isinstance(service, ProcessService):
            endpoint = _where_it_runs(service)
        else:
            endpoint = redact_url(service.url, keep_query=False)
        components.append(Component(mask(name), service.kind, mask(_without_user(endpoint))))
    description = mask(loaded.environment.description)
    return SystemDescription(loaded.name, description, tuple(components))


def describe_config(config_file: Path, environment: str) -> SystemDescription:
    """Names and kinds of the services as written; no components when the file is unreadable."""
    try:
        document = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        settings = document["environments"][environment]
        services = settings.get("services") or {}
        components = tuple(
            Component(str(name), str((spec or {}).get("kind", "service")))
            for name, spec in services.items()
        )
        return SystemDescription(environment, str(settings.get("description", "")), components)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return SystemDescription(environment, "", ())


def _where_it_runs(service: ProcessService) -> str:
    """``docker://worker``, ``systemd://db1/worker.service``, ``process://component/worker``,
    ``process://pidfile/run/w.pid``."""
    if service.runtime.docker is not None:
        return f"docker://{service.runtime.docker.container}"
    if service.runtime.systemd is not None:
        unit = service.runtime.systemd
        return f"systemd://{unit.host or 'localhost'}/{unit.unit}"
    spec = service.runtime.process
    assert spec is not None
    if spec.component:
        return f"process://component/{spec.component}"
    if spec.pid_file:
        return f"process://pidfile{spec.pid_file}"
    return f"process://match/{spec.match}"


def _without_user(endpoint: str) -> str:
    head, at, tail = endpoint.partition("@")
    if not at or "://" not in head:
        return endpoint
    return f"{head.partition('://')[0]}://{tail}"


def ssp_document(
    run: RunRecord,
    system: SystemDescription,
    controls: Sequence[str],
    metadata: Json,
    profile: tuple[str, Json],
) -> Json:
    """``profile`` is the href of the profile and its back-matter resource (with its hash)."""
    ids = system.uuids()
    this_system = ids("component", THIS_SYSTEM)
    description = system.description or f"The services opsproof verifies as {system.environment}"
    components: list[Json] = [
        {
            "uuid": this_system,
            "type": THIS_SYSTEM,
            "title": f"environment {system.environment}",
            "description": description,
            "status": {"state": "operational"},
        }
    ]
    components += [
        {
            "uuid": ids("component", c.name),
            "type": "service",
            "title": c.name,
            "description": f"{c.kind} service {c.name}"
            + (f" at {c.endpoint}" if c.endpoint else ""),
            "props": [prop("service-kind", c.kind)]
            + ([prop("endpoint", c.endpoint)] if c.endpoint else []),
            "status": {"state": "operational"},
        }
        for c in system.components
    ]
    href, resource = profile
    document: Json = {
        "uuid": Uuids(f"run\x1f{run.environment}\x1f{run.started_at.isoformat()}")("ssp"),
        "metadata": metadata,
        "import-profile": {"href": href},
        "system-characteristics": {
            "system-ids": [{"identifier-type": "https://ietf.org/rfc/rfc4122", "id": this_system}],
            "system-name": system.environment,
            "description": description,
            "system-information": {
                "information-types": [
                    {
                        "uuid": ids("information-type", "operations"),
                        "title": "Operational data of the services",
                        "description": "What the services store and serve; opsproof observes "
                        "their health, backups and recovery, not the data itself.",
                    }
                ]
            },
            "status": {"state": "operational"},
            "authorization-boundary": {
                "description": f"The services declared for environment {system.environment} "
                "in opsproof's configuration."
            },
        },
        "system-implementation": {
            "users": [
                {
                    "uuid": ids("user", "operator"),
                    "title": "Operator",
                    "description": "Runs opsproof and answers for its runs.",
                    "role-ids": ["assessor"],
                }
            ],
            "components": components,
        },
        "control-implementation": {
            "description": "Controls this kind of run is meant to evidence; how each fared is "
            "in the assessment results.",
            "implemented-requirements": [
                {"uuid": ids("requirement", control), "control-id": control_token(control)}
                for control in controls
            ],
        },
        "back-matter": {"resources": [resource]},
    }
    return {"system-security-plan": document}


def component_uuid(system: SystemDescription, name: str = THIS_SYSTEM) -> str:
    return system.uuids()("component", name)
