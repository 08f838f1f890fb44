"""The drill's tests run against deployments started by hand: local processes
(tests/drill/foreign.py) and containers (tests/drill/contained.py)."""

from tests.drill.contained import contained
from tests.drill.foreign import foreign

__all__ = ["contained", "foreign"]
