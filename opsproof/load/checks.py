"""k6-style checks from Locust user classes: ``check(self, "status is 200", ok)``.

A check is an assertion that does not fail the request; it feeds the ``checks`` rate metric.
It travels as a Locust request event of its own type, Locust's documented extension point,
so it needs nothing but the user it is called from.
"""

from typing import Protocol

from opsproof.errors import CheckFailed

CHECK_REQUEST_TYPE = "CHECK"


class _Events(Protocol):
    @property
    def request(self) -> "_Hook": ...


class _Hook(Protocol):
    def fire(self, **kwargs: object) -> None: ...


class _Environment(Protocol):
    @property
    def events(self) -> _Events: ...


class _User(Protocol):
    @property
    def environment(self) -> _Environment: ...


def check(user: _User, name: str, ok: bool) -> bool:
    """Record check ``name`` as passed or failed; returns ``ok`` for use in conditions."""
    user.environment.events.request.fire(
        request_type=CHECK_REQUEST_TYPE,
        name=name,
        response_time=0.0,
        response_length=0,
        exception=None if ok else CheckFailed(name),
        context={},
    )
    return ok
