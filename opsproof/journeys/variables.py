"""A flow's variables: what earlier steps captured, filled into ``${name}`` in later ones.

The loader leaves ``${name}`` as written wherever a step of the flow captures ``name``
(:func:`opsproof.config.references.flow_variables`); here it is filled in as the flow runs.
Values a capture declares secret, or whose names look secret (``token``, ``api_key``), are
masked in every reason the flow gives, as the loader masks the file's own secrets.
"""

import re

from pydantic import JsonValue

from opsproof.config.flows import VARIABLE_NAME
from opsproof.support.redact import Redactor, looks_secret

_REFERENCE = re.compile(r"\$\{(" + VARIABLE_NAME + r")\}")


class Variables:
    """The values captured so far, in capture order."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self._secrets: set[str] = set()

    def capture(self, name: str, value: str, secret: bool) -> None:
        self.values[name] = value
        if secret or looks_secret(name):
            self._secrets.add(value)

    def render(self, text: str) -> str:
        """``text`` with each captured ``${name}`` replaced by its value."""
        if "${" not in text:
            return text
        return _REFERENCE.sub(lambda m: self.values.get(m[1], m[0]), text)

    def ready(self, text: str) -> bool:
        """Whether every ``${name}`` in ``text`` has been captured."""
        return all(name in self.values for name in _REFERENCE.findall(text))

    def render_json(self, value: JsonValue) -> JsonValue:
        """Every string inside JSON-like data rendered (keys too)."""
        if isinstance(value, str):
            return self.render(value)
        if isinstance(value, dict):
            return {self.render(k): self.render_json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render_json(v) for v in value]
        return value

    def redactor(self, known: frozenset[str] = frozenset()) -> Redactor:
        """Masks the captured secrets and the ``known`` ones (the environment's)."""
        return Redactor(self._secrets | known)

    def shown(self) -> str:
        """``job_id=7f3…, token=***`` for a reason: what the flow had captured (masked later)."""
        if not self.values:
            return "nothing captured"
        return ", ".join(f"{name}={value}" for name, value in self.values.items())
