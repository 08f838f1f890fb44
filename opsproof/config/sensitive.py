"""Which configured values are secrets, so that reports can mask them."""

import re
from collections.abc import Iterator
from urllib.parse import unquote

from opsproof.config.models import Environment, HttpService

_SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|KEY|AUTH|CREDENTIAL", re.IGNORECASE)
_URL_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^\s/?#]*)@")


def looks_secret(name: str) -> bool:
    """Whether a variable or header name suggests its value is a secret."""
    return bool(_SECRET_NAME.search(name))


def url_passwords(data: object) -> set[str]:
    """Passwords written into URLs and DSNs (``scheme://user:PASSWORD@host``) anywhere in data."""
    found: set[str] = set()
    for text in _strings(data):
        for userinfo in _URL_USERINFO.findall(text):
            _, colon, password = userinfo.partition(":")
            if colon and password:
                found |= {password, unquote(password)}
    return found


def header_secrets(environment: Environment) -> set[str]:
    """Every header value of an HTTP service, and smoke headers whose names look secret."""
    found = {
        value
        for service in environment.services_of(HttpService).values()
        for value in service.headers.values()
    }
    for step in environment.smoke:
        found |= {value for name, value in step.request.headers.items() if looks_secret(name)}
    return found


def _strings(data: object) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)
