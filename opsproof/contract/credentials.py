"""The probe's credentials: ``api_contract.auth`` headers, filled in by token steps that run
once before the probe, in a flow's vocabulary (request, expect, capture) and engine."""

from collections.abc import Mapping
from dataclasses import dataclass

from opsproof.config.flows import FlowSpec
from opsproof.config.models import ApiAuthSpec, HttpService
from opsproof.journeys.flow import FlowContext, run_flow_capturing


@dataclass(frozen=True)
class Credentials:
    headers: dict[str, str]
    """Sent with every authenticated request, over the service's own headers."""
    secrets: frozenset[str] = frozenset()
    """Values masked wherever the probe writes: the headers' values and the tokens in them."""
    problem: str = ""
    """Why the token steps gave no credentials; every item of the probe fails with it."""


NONE = Credentials({})


def fetch_credentials(
    name: str,
    auth: ApiAuthSpec | None,
    services: Mapping[str, HttpService],
    context: FlowContext,
) -> Credentials:
    """Run the token steps (if any) against service ``name`` and fill in the headers."""
    if auth is None:
        return NONE
    if not auth.steps:
        return Credentials(dict(auth.headers), frozenset(auth.headers.values()))
    flow = FlowSpec.model_construct(
        name=f"{name} api_contract auth", service=name, headers={}, steps=auth.steps
    )
    outcome = run_flow_capturing(flow, services, context)
    variables = outcome.variables
    headers = {key: variables.render(value) for key, value in auth.headers.items()}
    used = {
        value
        for key, value in variables.values.items()
        if any(f"${{{key}}}" in raw for raw in auth.headers.values())
    }
    secrets = frozenset(headers.values()) | frozenset(used)
    if not outcome.observation.ok:
        return Credentials(headers, secrets, f"auth steps failed: {outcome.observation.reason}")
    return Credentials(headers, secrets)
