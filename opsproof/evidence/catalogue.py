"""The control catalogue: which control ids exist, their titles, and each kind's scope.

The shipped catalogue (``data/catalogue.yaml``) may be extended by a team's own file
(``controls:`` in opsproof.yaml, read by ``custom_controls.py``); both end up in one
:class:`Catalogue`, so every report and the OSCAL export see the same ids.
"""

from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from opsproof.config.problems import did_you_mean

CATALOGUE_RESOURCE = "data/catalogue.yaml"
_FRAMEWORK_SEPARATOR = ":"


class Catalogue(BaseModel):
    """Control ids (``SOC2:CC7.2``, ``ISO27001:A.8.13``, ``NIST800-53:CP-9``) and titles."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    frameworks: dict[str, str]
    """Framework prefix → the framework's name."""
    controls: dict[str, str]
    """Control id → short title."""
    scope: dict[str, list[str]]
    """Run kind → the controls such a run is meant to evidence."""
    extension: str | None = None
    """The team's own catalogue file these controls were extended with, if any."""

    @model_validator(mode="after")
    def _consistent(self) -> "Catalogue":
        for control in self.controls:
            framework = control.partition(_FRAMEWORK_SEPARATOR)[0]
            if framework not in self.frameworks:
                raise ValueError(f"{control}: unknown framework {framework!r}")
        for kind, ids in self.scope.items():
            unknown = [i for i in ids if i not in self.controls]
            if unknown:
                raise ValueError(f"scope of {kind}: unknown controls {unknown}")
        return self

    def problem(self, control: object) -> str | None:
        """Why ``control`` is not a catalogue id (with the closest id), or None when it is."""
        if isinstance(control, str) and control in self.controls:
            return None
        if not isinstance(control, str) or _FRAMEWORK_SEPARATOR not in control:
            return (
                f"control id {control!r} is not of the form FRAMEWORK:ID "
                f"(frameworks: {', '.join(self.frameworks)}; e.g. SOC2:CC7.2)"
            )
        hint = did_you_mean(control, list(self.controls))
        where = (
            f"opsproof's catalogue nor in {self.extension}"
            if self.extension
            else ("opsproof's catalogue")
        )
        return (
            f"unknown control id {control!r}{hint} "
            f"(not in {where}; list them with: opsproof report controls)"
        )

    def title(self, control: str) -> str:
        return self.controls.get(control, "")

    def in_scope(self, kind: str) -> list[str]:
        return list(self.scope.get(kind, []))

    def framework_of(self, control: str) -> str:
        return control.partition(_FRAMEWORK_SEPARATOR)[0]


def load_catalogue() -> Catalogue:
    """The catalogue shipped with opsproof."""
    text = resources.files("opsproof.evidence").joinpath(CATALOGUE_RESOURCE).read_text()
    return Catalogue.model_validate(yaml.safe_load(text))
