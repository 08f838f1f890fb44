"""Clients for the session's reference stack and a poll helper."""

import ssl
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import httpx
import pytest

from opsproof.runtimes.launched import StackState

T = TypeVar("T")
Eventually = Callable[[Callable[[], T | None], float, str], T]


@pytest.fixture(scope="session")
def api(reference_stack: StackState) -> Iterator[httpx.Client]:
    """HTTPS client through nginx that trusts only the stack's CA."""
    context = ssl.create_default_context(cafile=reference_stack.values["tls.ca_file"])
    with httpx.Client(
        base_url=reference_stack.values["api.url"], verify=context, timeout=5.0, trust_env=False
    ) as client:
        yield client


@pytest.fixture
def eventually() -> Eventually[object]:
    """``eventually(check, timeout, what)``: poll ``check`` every 50 ms until it returns
    something other than None/False; fail naming ``what`` at the deadline."""

    def poll(check: Callable[[], T | None], timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        while not (result := check()):
            if time.monotonic() >= deadline:
                pytest.fail(f"{what}: not within {timeout:g} s")
            time.sleep(0.05)
        return result

    return poll
