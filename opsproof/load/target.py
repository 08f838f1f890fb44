"""The service a load scenario sends to, as the plan carries it to every worker."""

from pydantic import BaseModel, ConfigDict


class LoadTarget(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str
    ca_pem: str | None = None
    """CA certificate to trust, sent as text so remote workers need no local file."""
    headers: dict[str, str] = {}
    timeout: float = 60.0
    """Connect and network timeout of every request, in seconds."""
