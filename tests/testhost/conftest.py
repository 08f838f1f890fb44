"""The test host guest for the host tests: booted once per session (or the one already running
reused and left running), stopped at the end only if this session booted it.

Booting needs qemu and a built image (scripts/setup.sh installs the programs; the first boot
builds the image, ~70 s, then ~40-60 s per boot under emulation). When it cannot boot the tests
are skipped saying why; under CI (CI=true) that is a failure, never a silent skip.
"""

import os
import time
from collections.abc import Iterator
from contextlib import nullcontext

import pytest

from opsproof.errors import OpsproofError
from opsproof.testhost.layout import CacheLayout, default_cache_dir
from opsproof.testhost.machine import GuestState, down, status, up
from opsproof.transport.ssh import SshSession


def _say(config: pytest.Config, message: str) -> None:
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        print(f"\n{message}")


@pytest.fixture(scope="session")
def testhost_layout() -> CacheLayout:
    return CacheLayout(default_cache_dir().absolute())


@pytest.fixture(scope="session")
def guest(testhost_layout: CacheLayout, pytestconfig: pytest.Config) -> Iterator[GuestState]:
    """The running guest; its boot (and image build) timed and printed."""
    running = status(testhost_layout)
    if running is not None:
        _say(pytestconfig, f"testhost reused: {running.ssh_url} (accel {running.accel})")
        yield running
        return
    began = time.monotonic()
    try:
        state = up(testhost_layout, lambda message: _say(pytestconfig, message))
    except OpsproofError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the test host cannot boot: {error}", pytrace=False)
        pytest.skip(f"the test host cannot boot: {error}")
    _say(
        pytestconfig,
        f"testhost up in {time.monotonic() - began:.1f} s (accel {state.accel}, sshd after "
        f"{state.boot_seconds} s, systemd {state.system_state} after {state.ready_seconds} s)",
    )
    yield state
    down(testhost_layout)
    assert status(testhost_layout) is None, "qemu still runs after testhost down"


@pytest.fixture
def session(guest: GuestState) -> Iterator[SshSession]:
    """A multiplexed connection to the guest, as the unprivileged user."""
    with SshSession(guest.endpoint()) as opened:
        yield opened
