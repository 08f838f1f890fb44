"""The OpenAPI document a probe works from: fetched from the service through the bounded client
(or read from a file), parsed without trusting it, and handed to Schemathesis.

A document served by the service under test is the service's own word and may be hostile: it
is read within the service's ``max_body`` and deadline, parsed as JSON, or as YAML through the
config loader's parser (aliases capped), never with a loader that builds objects.
"""

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation, BaseSchema

from opsproof.config.models import ApiContractSpec, HttpService
from opsproof.config.source import parse
from opsproof.contract.operations import Operation, operation_of
from opsproof.errors import ConfigError, FetchError, UnusableApiDocument
from opsproof.probes.exchange import fetch, http_client
from opsproof.support.text import one_line, quantity

DEFAULT_PATH = "/openapi.json"
MAX_FILE = 16 << 20
"""A document file larger than 16 MiB is not an API description anyone maintains."""


@dataclass(frozen=True)
class DocumentedOperation:
    """An operation and Schemathesis's view of it (None when its definition is unusable)."""

    operation: Operation
    api: APIOperation[Any, Any, Any, Any] | None
    problem: str = ""


@dataclass(frozen=True)
class ApiDocument:
    source: str
    """Where it came from, for reasons: ``GET https://…/openapi.json`` or the file."""
    raw: dict[str, Any]
    schema: BaseSchema
    operations: tuple[DocumentedOperation, ...]


def load_document(service: HttpService, contract: ApiContractSpec, base_dir: Path) -> ApiDocument:
    """The service's document, or :class:`UnusableApiDocument` saying in one line why not."""
    if contract.openapi_file is not None:
        path = base_dir / contract.openapi_file
        source, text = str(path), _read_file(path)
    else:
        url = service.url.rstrip("/") + (contract.openapi or DEFAULT_PATH)
        source, text = f"GET {url}", _fetch_text(service, url)
    raw = _parsed(text, source)
    try:
        schema = schemathesis.openapi.from_dict(raw, config=schemathesis.Config())
    except Exception as exc:  # Schemathesis's loader errors have no common public base
        raise UnusableApiDocument(f"{source}: not an OpenAPI document Schemathesis can use: "
                                  f"{one_line(str(exc), 200)}") from exc  # fmt: skip
    schema.config.update(base_url=service.url.rstrip("/"))
    return ApiDocument(source, raw, schema, tuple(_operations(schema, raw)))


def _fetch_text(service: HttpService, url: str) -> str:
    try:
        with http_client(service) as client:
            answer = fetch(client, "GET", url, service.timeout)
    except FetchError as exc:
        raise UnusableApiDocument(f"{url}: {exc}") from exc
    if answer.status != 200:
        raise UnusableApiDocument(
            f"GET {url} answered {answer.status}, not the document: {answer.excerpt()}; "
            "set api_contract.openapi to where the service serves it, or openapi_file"
        )
    return answer.body.decode("utf-8", "replace")


def _read_file(path: Path) -> str:
    """A regular file within :data:`MAX_FILE` (a FIFO or a device is refused, never read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise UnusableApiDocument(f"{path}: cannot open it ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnusableApiDocument(f"{path}: not a regular file; point openapi_file at one")
        data = file.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise UnusableApiDocument(f"{path}: larger than {quantity(MAX_FILE)}")
    return data.decode("utf-8", "replace")


def _parsed(text: str, source: str) -> dict[str, Any]:
    try:
        data: object = json.loads(text)
    except ValueError:
        try:
            data = parse(text, source).data
        except ConfigError as exc:
            raise UnusableApiDocument(f"neither JSON nor YAML: {one_line(str(exc), 200)}") from exc
    if not isinstance(data, dict):
        raise UnusableApiDocument(f"{source}: not an OpenAPI document (not a mapping)")
    return data


def _operations(schema: BaseSchema, raw: dict[str, Any]) -> list[DocumentedOperation]:
    """Every operation, in document order; one Schemathesis cannot use keeps its problem."""
    found = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            api = result.ok()
            operation = operation_of(api.method, api.path, api.definition.raw, raw)
            found.append(DocumentedOperation(operation, api))
        else:
            error = result.err()
            operation = Operation((error.method or "any").upper(), error.path or "(unknown path)")
            found.append(DocumentedOperation(operation, None, one_line(error.message, 200)))
    return found
