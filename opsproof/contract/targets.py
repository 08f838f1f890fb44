"""The gate's API contract items: one per operation (``api_operation``) and one per operation
that declares security (``api_access``). Kept free of Schemathesis, so naming the fixtures
costs nothing."""

from dataclasses import dataclass

from opsproof.config.models import HttpService

CONTRACT_FIXTURES = ("api_operation", "api_access")
"""Their items judge once: re-running an exploration until a convergence deadline would spend
the budget again and hit the service again, for the same verdict."""


@dataclass(frozen=True)
class ApiTarget:
    id: str
    """``api GET /jobs/{job_id}``; ``api openapi`` when the document itself is unusable."""
    name: str
    """The service's name in the config."""
    service: HttpService
    label: str
    """``GET /jobs/{job_id}``; empty for the document."""
    access: bool = False
    """The access item: asked without credentials, it must refuse."""
