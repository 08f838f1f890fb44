"""A load profile: k6 options read from a YAML/JSON file or a dict, validated, optionally
time-scaled, as the scenarios to run and the thresholds to judge them by."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import ValidationError

from opsproof.config.problems import Problem, config_error
from opsproof.config.source import ParsedFile, parse
from opsproof.config.validation import validation_problems
from opsproof.errors import ConfigError
from opsproof.load.options import Options, Scenario
from opsproof.load.script import upload_problems
from opsproof.load.thresholds import Expression, Selector, parse_expression, parse_selector
from opsproof.load.tolerances import RegressionSpec

DICT_KEY = "[key]"


@dataclass(frozen=True)
class Threshold:
    """One threshold of one metric: its own pytest item."""

    selector: Selector
    expression: Expression
    source: str
    """As written in the profile, e.g. ``p(95) < 500``."""
    abort_on_fail: bool = False
    delay_abort_eval: float | None = None

    @property
    def id(self) -> str:
        """Readable, stable test id: ``http_req_duration:p(95)<500``."""
        return f"{self.selector}:{self.expression}"


@dataclass(frozen=True)
class Profile:
    name: str
    written: dict[str, Scenario]
    """The scenarios as the profile declares them (k6's rules hold for these)."""
    thresholds: tuple[Threshold, ...]
    time_scale: float = 1.0
    base_dir: Path = Path()
    """The profile file's directory: a request's upload is relative to it."""
    parsed: ParsedFile | None = field(default=None, compare=False, repr=False)
    """Where each key was written, to locate a reference the environment cannot satisfy."""
    regression: RegressionSpec | None = None
    """Tolerances against a baseline run (``--load-baseline``)."""

    @property
    def shape(self) -> str:
        """A digest of what the profile runs and judges (scenarios as written, thresholds), not
        of its regression tolerances: two runs compare only when it is the same."""
        written = {
            name: scenario.model_dump(mode="json", by_alias=True)
            for name, scenario in sorted(self.written.items())
        }
        document = {"scenarios": written, "thresholds": [t.id for t in self.thresholds]}
        text = json.dumps(document, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def scenarios(self) -> dict[str, Scenario]:
        """The scenarios to run: every duration multiplied by the time scale."""
        return {name: scale(s, self.time_scale) for name, s in self.written.items()}

    def scaled(self, factor: float) -> "Profile":
        """Every duration multiplied by ``factor`` (rates per timeUnit unchanged): a 16-minute
        runbook ramp runs in 10 s at 0.01 with the same shape."""
        if factor <= 0:
            raise ConfigError(f"time scale {factor} must be above 0; 1 runs the profile as written")
        thresholds = tuple(
            t
            if t.delay_abort_eval is None
            else replace(t, delay_abort_eval=t.delay_abort_eval * factor)
            for t in self.thresholds
        )
        return replace(self, thresholds=thresholds, time_scale=self.time_scale * factor)


def load_profile(path: Path) -> Profile:
    """Read and validate a profile file; ConfigError names file, line, key and the fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the load profile ({error.strerror})") from None
    parsed = parse(text, str(path))
    try:
        options = Options.model_validate(parsed.data)
    except ValidationError as error:
        problems = validation_problems(error, Options, parsed.data, (), parsed)
        raise config_error(str(path), [_at_key(p, parsed) for p in problems]) from None
    profile = profile_from_options(options, path.stem)
    uploads = list(upload_problems(profile.written, path.parent, parsed))
    if uploads:
        raise config_error(str(path), uploads)
    return replace(profile, base_dir=path.parent, parsed=parsed)


def _at_key(problem: Problem, parsed: ParsedFile) -> Problem:
    """pydantic locates a bad mapping key as ``key['[key]']``: point at the key itself."""
    if problem.path[-1:] != (DICT_KEY,):
        return problem
    path = problem.path[:-1]
    return Problem(parsed.locate(path, key=True), path, problem.message)


def profile_from_dict(data: Mapping[str, object], name: str = "profile") -> Profile:
    """A profile written as a Python dict of k6 options."""
    try:
        options = Options.model_validate(dict(data))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or 'options'}: {e['msg']}"
            for e in error.errors()
        )
        raise ConfigError(f"load profile {name!r}: {problems}") from None
    return profile_from_options(options, name)


def profile_from_options(options: Options, name: str) -> Profile:
    thresholds = tuple(
        Threshold(
            parse_selector(metric),
            parse_expression(entry.threshold),
            entry.threshold,
            entry.abort_on_fail,
            entry.delay_abort_eval,
        )
        for metric, entries in options.thresholds.items()
        for entry in entries
    )
    return Profile(name, options.derived_scenarios(), thresholds, regression=options.regression)


def scale(scenario: Scenario, factor: float) -> Scenario:
    """``scenario`` with every duration (not timeUnit) multiplied by ``factor``."""
    if factor == 1:
        return scenario
    fields = ("start_time", "graceful_stop", "duration", "graceful_ramp_down", "max_duration")
    update: dict[str, object] = {
        field: getattr(scenario, field) * factor for field in fields if hasattr(scenario, field)
    }
    if stages := getattr(scenario, "stages", None):
        update["stages"] = [
            stage.model_copy(update={"duration": stage.duration * factor}) for stage in stages
        ]
    return scenario.model_copy(update=update)
