"""A flow: its steps in order, each judged, the first failure ending it.

The flow is one gate item because its steps depend on each other (a poll needs the id the
upload returned): as separate items, one failure would fail every later step for a reason
that is not theirs. Each step is still its own line in the reason and its own figures
(``2 wait for the result: poll_s``), so the evidence shows which step broke and what each
took. A failure names the step, its request, expected against actual, and what the flow had
captured, with secrets masked.
"""

import re
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from opsproof.config.flows import FlowSpec
from opsproof.config.models import HttpService
from opsproof.journeys.expect import Exchanged
from opsproof.journeys.step import StepContext, run_step
from opsproof.journeys.variables import Variables
from opsproof.probes.exchange import http_client
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed


@dataclass(frozen=True)
class FlowContext:
    """What a flow needs beyond its spec: uploads are relative to ``base_dir`` (the config
    file's directory), downloads saved under ``run_dir``/flows/FLOW/, the environment's
    secrets masked together with the captured ones."""

    base_dir: Path
    run_dir: Path | None = None
    secrets: frozenset[str] = frozenset()


def _slug(name: str) -> str:
    return re.sub(r"[^\w.-]+", "-", name).strip("-") or "flow"


@dataclass(frozen=True)
class FlowOutcome:
    """A flow's observation and what its steps captured (an API probe's token)."""

    observation: Observation
    variables: Variables


@timed
def run_flow(
    flow: FlowSpec,
    services: Mapping[str, HttpService],
    context: FlowContext,
    clients: Mapping[str, httpx.Client] | None = None,
) -> Observation:
    """Run every step until one fails; the reason has one line per step run. ``clients``
    (by service) are reused when given, as a flow run again and again does."""
    return run_flow_capturing(flow, services, context, clients).observation


def run_flow_capturing(
    flow: FlowSpec,
    services: Mapping[str, HttpService],
    context: FlowContext,
    clients: Mapping[str, httpx.Client] | None = None,
) -> FlowOutcome:
    """:func:`run_flow`, keeping the captured variables for the caller."""
    variables = Variables()
    save_dir = None if context.run_dir is None else context.run_dir / "flows" / _slug(flow.name)
    step_context = StepContext(context.base_dir, save_dir)
    earlier: dict[str, Exchanged] = {}
    lines: list[str] = []
    figures: dict[str, Figure] = {}
    with ExitStack() as stack:
        opened: dict[str, httpx.Client] = dict(clients or {})
        for number, step in enumerate(flow.steps, 1):
            name = step.service or flow.service
            if name not in opened:
                opened[name] = stack.enter_context(http_client(services[name]))
            result = run_step(
                step, services[name], opened[name], variables, earlier, step_context, flow.headers
            )
            step_figures = {"request": Figure(result.target), **result.figures}
            figures |= {f"{number} {step.name}: {k}": v for k, v in step_figures.items()}
            earlier[step.name] = result.exchanged
            if not result.ok:
                lines.append(
                    f"step {number}/{len(flow.steps)} {step.name!r} failed: {result.target}: "
                    f"{result.line}; captured: {variables.shown()}"
                )
                reason = f"flow {flow.name!r}: " + "\n".join(lines)
                failed = Observation(False, flow.name, reason, figures)
                return FlowOutcome(_masked(failed, variables, context), variables)
            lines.append(f"step {number} {step.name!r}: {result.target}: {result.line}")
    reason = f"flow {flow.name!r}: {len(flow.steps)} steps passed\n" + "\n".join(lines)
    passed = Observation(True, flow.name, reason, figures)
    return FlowOutcome(_masked(passed, variables, context), variables)


def _masked(observation: Observation, variables: Variables, context: FlowContext) -> Observation:
    """The reason and the text figures (each step's request) with every secret masked."""
    redactor = variables.redactor(context.secrets)
    figures = {
        name: replace(figure, value=redactor.text(figure.value))
        if isinstance(figure.value, str)
        else figure
        for name, figure in observation.figures.items()
    }
    return replace(observation, reason=redactor.text(observation.reason), figures=figures)
