"""Keep secrets out of every report: known secret values, URL passwords, credential headers."""

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@/\s]+)(?=@)", re.I)
_SECRET_ASSIGNMENT = re.compile(
    r"(?P<head>\b(?:authorization|cookie|set-cookie|x-api-key|api[_-]?key|password|passwd|"
    r"secret|token)\b\s*[:=]\s*)(?P<pw>(?:bearer\s+|basic\s+)?[^\s,;\"'}]+)",
    re.I,
)
_SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|KEY|AUTH|CREDENTIAL", re.IGNORECASE)
MASK = "***"
MIN_SECRET_LENGTH = 4
"""Shorter values (a port, a boolean) would mask unrelated text and cannot be real secrets."""
MIN_ENVIRONMENT_SECRET_LENGTH = 8
"""Environment values are only guessed to be secrets by name: short ones ("true", "none") are
more likely flags than credentials."""


def looks_secret(name: str) -> bool:
    """Whether a variable or header name suggests its value is a secret."""
    return bool(_SECRET_NAME.search(name))


class Redactor:
    """Masks secrets in text; every writer passes everything it writes through one of these."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        # Longest first so that a secret containing another is masked whole.
        self._values = sorted(values, key=len, reverse=True)

    def text(self, value: str) -> str:
        # Repeat until no secret is left: masking can join neighbours into a secret again, and
        # each pass shortens the text (secrets are longer than the mask), so this ends.
        while any(secret in value for secret in self._values):
            for secret in self._values:
                value = value.replace(secret, MASK)
        value = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, value)
        return _SECRET_ASSIGNMENT.sub(lambda m: m.group("head") + MASK, value)

    def data(self, value: object) -> object:
        """Redact every string inside JSON-like data (dict keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


def redact_url(url: str, keep_query: bool = True) -> str:
    """The URL without its password (and query, where DSNs carry options): a target id."""
    parts = urlsplit(url)
    if parts.password is not None:
        userinfo, _, hostport = parts.netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        parts = parts._replace(netloc=f"{user}@{hostport}" if user else hostport)
    if not keep_query:
        parts = parts._replace(query="", fragment="")
    # Rebuild only when something was removed: urlunsplit drops the "//" of "local://".
    return url if parts == urlsplit(url) else urlunsplit(parts)


def environment_secrets(environ: Mapping[str, str]) -> set[str]:
    """Values of environment variables whose names look secret (``*_TOKEN``, ``*PASSWORD*``)."""
    return {
        value
        for name, value in environ.items()
        if looks_secret(name) and len(value) >= MIN_ENVIRONMENT_SECRET_LENGTH
    }
