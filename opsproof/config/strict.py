"""The base of every config model."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are rejected, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
