"""Fill in the ``${...}`` references of one environment from variables and the reference stack."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from opsproof.config.interpolation import Reference, parse_template
from opsproof.config.problems import KeyPath, Problem, did_you_mean
from opsproof.config.source import ParsedFile
from opsproof.errors import StackNotRunning
from opsproof.support.redact import looks_secret


class StackValues(Protocol):
    """What interpolation needs of a running reference stack (the stack's state is one)."""

    @property
    def values(self) -> Mapping[str, str]:
        """Flat values: ``api.url``, ``redis.port``, ``postgres.password``, ..."""

    @property
    def secrets(self) -> Sequence[str]:
        """Values that reports must mask."""


StackLookup = Callable[[], StackValues | None]
"""Returns the running stack's values, or None; injected by whoever knows where the stack is
(the plugin reads its state file), so the config layer does not depend on the stack's."""


def no_stack() -> StackValues | None:
    """The lookup when none is given: no reference stack is known."""
    return None


class Resolver:
    """Values for references; reads the stack at most once, and only when one is referenced."""

    def __init__(self, environ: Mapping[str, str], stack: StackLookup) -> None:
        self._environ = environ
        self._stack = stack
        self._state: StackValues | None = None
        self._stack_read = False
        self.secrets: set[str] = set()
        """Values from secret-looking variables, and the stack's secrets once it was used."""

    def resolve(self, ref: Reference) -> str:
        """The value of ``ref``; raises ValueError naming the fix when there is none, or
        StackNotRunning."""
        key = ref.stack_key
        value = self._environ.get(ref.name) if key is None else self._stack_value(key)
        if not value and ref.default is not None:
            value = ref.default
        if value is None and key is not None:
            raise self._no_stack_value(ref, key)
        if value is None:
            raise ValueError(
                f"{ref} is not set; export {ref.name}=... or write ${{{ref.name}:-default}}"
            )
        if value and key is None and looks_secret(ref.name):
            self.secrets.add(value)  # the stack lists its own secrets; its key names do not
        return value

    def _running_stack(self) -> StackValues | None:
        if not self._stack_read:
            self._state, self._stack_read = self._stack(), True
        return self._state

    def _stack_value(self, key: str) -> str | None:
        state = self._running_stack()
        if state is None:
            return None
        self.secrets.update(state.secrets)
        return state.values.get(key)

    def _no_stack_value(self, ref: Reference, key: str) -> ValueError | StackNotRunning:
        state = self._running_stack()
        if state is None:
            return StackNotRunning(str(ref))
        known = sorted(state.values)
        return ValueError(
            f"{ref}: the reference stack has no value {key!r}{did_you_mean(key, known)} "
            f"(known: {', '.join(known)})"
        )


@dataclass(frozen=True)
class Interpolated:
    """An environment's data with references filled in, and what could not be."""

    data: object
    problems: list[Problem]
    unresolved: list[KeyPath]
    """Values left unfinished because a reference in them could not be filled in."""


Deferred = Callable[[KeyPath, Reference], bool]
"""Whether a reference at a place is left as written, to be filled in later (a flow's variables)."""


def flow_variables(data: object, path: KeyPath, environ: Mapping[str, str]) -> Deferred:
    """``${name}`` inside a flow one of whose steps captures ``name`` is the flow's variable:
    filled in when the flow runs, not from the environment. So is a name no variable has
    there: the model then says no earlier step captures it (or that it may be exported).
    Flows are the environment's ``flows``, those of chaos experiments' expectations, and the
    token steps of an http service's ``api_contract.auth``."""
    captured = {at: names for at, names in _flows(data)}
    depth = len(path)

    def deferred(at: KeyPath, ref: Reference) -> bool:
        inside = at[depth:]
        root = next((r for r in captured if inside[: len(r)] == r), None)
        if root is None or ref.default is not None or ref.stack_key is not None:
            return False
        return ref.name in captured[root] or ref.name not in environ

    return deferred


def _flows(data: object) -> list[tuple[KeyPath, set[str]]]:
    """Where each flow is (relative to the environment) and the names its steps capture."""

    def items(value: object) -> list[tuple[int, object]]:
        return list(enumerate(value)) if isinstance(value, list) else []

    def get(value: object, key: str) -> object:
        return value.get(key) if isinstance(value, dict) else None

    found: list[tuple[KeyPath, object]] = [(("flows", i), f) for i, f in items(get(data, "flows"))]
    experiments = get(get(data, "chaos_plan"), "experiments")
    for i, experiment in items(experiments):
        for j, expectation in items(get(experiment, "expect")):
            at: KeyPath = ("chaos_plan", "experiments", i, "expect", j, "flow")
            found.append((at, get(expectation, "flow")))
    services = get(data, "services")
    for name, service in services.items() if isinstance(services, dict) else ():
        found.append(
            (("services", name, "api_contract", "auth"), get(get(service, "api_contract"), "auth"))
        )
    flows: list[tuple[KeyPath, set[str]]] = []
    for at, flow in found:
        names: set[str] = set()
        for _, step in items(get(flow, "steps")):
            capture = get(step, "capture")
            if isinstance(capture, dict):
                names.update(str(name) for name in capture)
        flows.append((at, names))
    return flows


def interpolate(
    data: object,
    path: KeyPath,
    resolver: Resolver,
    parsed: ParsedFile,
    deferred: Deferred = lambda at, ref: False,
) -> Interpolated:
    """``data`` with every string value interpolated (keys are left as written); a reference
    ``deferred`` says is for later stays as written."""
    problems: list[Problem] = []
    unresolved: list[KeyPath] = []
    stack_refs: list[tuple[KeyPath, str]] = []

    def fill(value: object, at: KeyPath) -> object:
        if isinstance(value, dict):
            return {key: fill(item, (*at, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item, (*at, i)) for i, item in enumerate(value)]
        if not isinstance(value, str):
            return value
        try:
            parts = parse_template(value)
        except ValueError as exc:
            problems.append(Problem(parsed.locate(at), at, str(exc)))
            unresolved.append(at)
            return value
        text = ""
        for part in parts:
            if isinstance(part, Reference) and deferred(at, part):
                text += str(part)
                continue
            try:
                text += part if isinstance(part, str) else resolver.resolve(part)
            except StackNotRunning as exc:
                stack_refs.append((at, exc.reference))
                unresolved.append(at)
            except ValueError as exc:
                problems.append(Problem(parsed.locate(at), at, str(exc)))
                unresolved.append(at)
        return text

    filled = fill(data, path)
    if stack_refs:  # one problem with one fix, however many values need the stack
        at, ref = stack_refs[0]
        more = f" (as do {len(stack_refs) - 1} more values)" if len(stack_refs) > 1 else ""
        message = (
            f"{ref} needs the reference stack, which is not running{more}; start it with "
            "'opsproof stack up' (or use 'opsproof run gate', which starts it)"
        )
        problems.append(Problem(parsed.locate(at), at, message))
    return Interpolated(filled, problems, unresolved)


def holds_reference(value: object) -> bool:
    """Whether interpolation could change ``value``: a string with a ``$`` in it, anywhere."""
    if isinstance(value, str):
        return "$" in value
    if isinstance(value, dict):
        return any(holds_reference(item) for item in value.values())
    if isinstance(value, list):
        return any(holds_reference(item) for item in value)
    return False


def template_problems(data: object, path: KeyPath, parsed: ParsedFile) -> list[Problem]:
    """The ``${...}`` syntax errors in ``data``, without filling anything in: what can be told
    about an environment that is not the one being loaded."""
    problems: list[Problem] = []

    def check(value: object, at: KeyPath) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                check(item, (*at, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                check(item, (*at, i))
        elif isinstance(value, str) and "$" in value:
            try:
                parse_template(value)
            except ValueError as exc:
                problems.append(Problem(parsed.locate(at), at, str(exc)))

    check(data, path)
    return problems
