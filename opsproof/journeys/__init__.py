"""User journeys: flows of HTTP steps that pass captured values along (docs/journeys.md)."""
