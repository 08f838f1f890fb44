"""A team's own controls: a catalogue extension file named by ``controls:`` in opsproof.yaml.

    version: 1
    frameworks:
      ACME: ACME operations policy 2026
    controls:
      ACME:OPS-7:
        title: Every production service answers its health check
        scope: [gate, chaos]       # run kinds that must evidence it (optional)

Its ids are validated like the shipped catalogue's, each problem reported as
``file:line:column: key: what is wrong; the fix``; once loaded they are ordinary catalogue ids,
so ``@pytest.mark.control("ACME:OPS-7")``, waivers, every report and the OSCAL export use them.
"""

import hashlib
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from opsproof.config.problems import Problem, config_error, did_you_mean
from opsproof.config.source import ParsedFile, parse
from opsproof.config.validation import validation_problems
from opsproof.errors import ConfigError
from opsproof.evidence.catalogue import Catalogue, load_catalogue
from opsproof.evidence.oscal.ids import control_token
from opsproof.paths import SUITES

RUN_KINDS = tuple(SUITES)
_FRAMEWORK = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
_LOCAL_ID = re.compile(r"^\S+$")


class CustomControl(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, description="a short title, shown in every report")
    scope: list[str] = Field(
        default_factory=list, description="run kinds that must evidence it: gate, chaos, dr, load"
    )

    @field_validator("scope")
    @classmethod
    def _known_kinds(cls, kinds: list[str]) -> list[str]:
        for kind in kinds:
            if kind not in RUN_KINDS:
                hint = did_you_mean(kind, RUN_KINDS)
                raise ValueError(f"unknown run kind {kind!r}{hint} (kinds: {', '.join(RUN_KINDS)})")
        return kinds


class ControlsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(description="always 1")
    frameworks: dict[str, str] = Field(
        default_factory=dict, description="new framework prefix: its full name"
    )
    controls: dict[str, CustomControl] = Field(description="FRAMEWORK:ID: title and scope")

    @field_validator("version")
    @classmethod
    def _version(cls, version: int) -> int:
        if version != 1:
            raise ValueError("only version 1 exists; write 'version: 1'")
        return version


def load_run_catalogue(config_path: Path) -> Catalogue:
    """The shipped catalogue, extended by the file ``controls:`` names in ``config_path``.

    Raises ConfigError naming the file, line and key of every problem."""
    shipped = load_catalogue()
    extension = controls_file(config_path)
    return shipped if extension is None else extend_catalogue(shipped, extension)


def controls_file(config_path: Path) -> Path | None:
    """The extension file ``controls:`` names, relative to the config file's directory; None
    when the config names none or is unreadable (loading the environment reports that)."""
    try:
        parsed = parse(config_path.read_text(encoding="utf-8"), str(config_path))
    except (OSError, UnicodeDecodeError):
        return None
    value = parsed.data.get("controls") if isinstance(parsed.data, dict) else None
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        key = ("controls",)
        message = "expected the path of your controls file, e.g. controls: acme-controls.yaml"
        raise config_error(parsed.source, [Problem(parsed.locate(key), key, message)])
    return config_path.parent / value


def extend_catalogue(shipped: Catalogue, path: Path) -> Catalogue:
    """``shipped`` plus the frameworks, controls and scopes of the extension file at ``path``."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"{path}: cannot read the controls file ({error.strerror}); fix the path under "
            "'controls:' in opsproof.yaml (relative paths start at that file's directory)"
        ) from None
    parsed = parse(raw.decode("utf-8", errors="replace"), str(path))
    try:
        document = ControlsFile.model_validate(parsed.data)
    except ValidationError as error:
        problems = validation_problems(error, ControlsFile, parsed.data, (), parsed)
        raise config_error(str(path), problems) from None
    if problems := _id_problems(document, shipped, parsed):
        raise config_error(str(path), problems)
    scope = {kind: list(ids) for kind, ids in shipped.scope.items()}
    for control_id, control in document.controls.items():
        for kind in control.scope:
            scope.setdefault(kind, []).append(control_id)
    digest = hashlib.sha256(raw).hexdigest()[:12]
    return Catalogue(
        version=f"{shipped.version}+{path.name}@{digest}",
        frameworks={**shipped.frameworks, **document.frameworks},
        controls={**shipped.controls, **{i: c.title for i, c in document.controls.items()}},
        scope=scope,
        extension=str(path),
    )


def _id_problems(document: ControlsFile, shipped: Catalogue, parsed: ParsedFile) -> list[Problem]:
    """Framework and control ids that are malformed, unknown, already shipped, or that would
    share an OSCAL id with another control."""
    problems = []
    for name in document.frameworks:
        key = ("frameworks", name)
        if not _FRAMEWORK.match(name):
            message = f"framework {name!r}: use letters, digits and '-', starting with a letter"
            problems.append(Problem(parsed.locate(key, key=True), key, message))
        elif name in shipped.frameworks:
            message = f"{name!r} is a shipped framework; add its controls under 'controls:' only"
            problems.append(Problem(parsed.locate(key, key=True), key, message))
    frameworks = {**shipped.frameworks, **document.frameworks}
    tokens = {control_token(c): c for c in shipped.controls}
    for control in document.controls:
        key = ("controls", control)
        framework, separator, local = control.partition(":")
        message = ""
        if not separator or not _LOCAL_ID.match(local):
            message = f"{control!r} is not of the form FRAMEWORK:ID (e.g. ACME:OPS-7)"
        elif framework not in frameworks:
            hint = did_you_mean(framework, list(frameworks))
            message = (
                f"unknown framework {framework!r}{hint}; declare it under 'frameworks:' "
                f"(known: {', '.join(frameworks)})"
            )
        elif control in shipped.controls:
            message = f"{control!r} is already in opsproof's catalogue; remove it here"
        elif (other := tokens.setdefault(control_token(control), control)) != control:
            message = (
                f"{control!r} and {other!r} have the same OSCAL id {control_token(control)!r}; "
                "rename one"
            )
        if message:
            problems.append(Problem(parsed.locate(key, key=True), key, message))
    return problems
