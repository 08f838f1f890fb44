"""Which configured values are secrets, so that reports can mask them."""

import re
from collections.abc import Iterator
from urllib.parse import unquote

from opsproof.config.models import Environment, HttpService
from opsproof.support.redact import looks_secret

# anchored on "://", not on the scheme: a scheme pattern tried at every letter of a long value
# rescans the whole run of letters each time (80 KB took seconds); userinfo holds no "/", so
# the scans from successive "://" never overlap and the whole search is linear
_URL_USERINFO = re.compile(r"://([^\s/?#]*)@")


def url_passwords(data: object) -> set[str]:
    """Passwords written into URLs and DSNs (``scheme://user:PASSWORD@host``) anywhere in data;
    linear in the length of the text."""
    found: set[str] = set()
    for text in _strings(data):
        for userinfo in _URL_USERINFO.findall(text):
            _, colon, password = userinfo.partition(":")
            if colon and password:
                found |= {password, unquote(password)}
    return found


def written_secrets(data: object) -> set[str]:
    """Before validation: URL passwords, and the header and form values ``header_secrets``
    would count (every value of a service's headers, secret-looking names elsewhere), as
    written."""
    found = url_passwords(data)
    for mapping in _mappings(data):
        for key in ("headers", "form"):
            fields = mapping.get(key)
            if isinstance(fields, dict):
                every = key == "headers" and "kind" in mapping  # a service's, not a request's
                found |= {
                    value
                    for name, value in fields.items()
                    if isinstance(value, str) and (every or looks_secret(str(name)))
                }
    # a reference names where the secret comes from; it is not the secret
    return {secret for secret in found if "${" not in secret}


def header_secrets(environment: Environment) -> set[str]:
    """Every header value of an HTTP service and of its API contract probe's ``auth``, and
    smoke, flow and token-step headers and form fields whose names look secret (a flow's
    captured values are masked when the flow runs)."""
    found = {
        value
        for service in environment.services_of(HttpService).values()
        for value in service.headers.values()
    }
    headers = [step.request.headers for step in environment.smoke]
    headers += [step.request.headers for flow in environment.flows for step in flow.steps]
    headers += [flow.headers for flow in environment.flows]
    headers += [step.request.form for flow in environment.flows for step in flow.steps]
    for service in environment.services_of(HttpService).values():
        auth = service.api_contract.auth if service.api_contract else None
        if auth is not None:  # an API contract probe's credentials: every value
            found |= {value for value in auth.headers.values() if "${" not in value}
            headers += [step.request.headers for step in auth.steps]
            headers += [step.request.form for step in auth.steps]
    for declared in headers:
        found |= {value for name, value in declared.items() if looks_secret(name)}
    return found


def _mappings(data: object) -> Iterator[dict[object, object]]:
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _mappings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _mappings(item)


def _strings(data: object) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)
