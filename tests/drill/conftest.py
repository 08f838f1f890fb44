"""The drill's tests run against a deployment started by hand (tests/drill/foreign.py)."""

from tests.drill.foreign import foreign

__all__ = ["foreign"]
