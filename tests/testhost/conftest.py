"""The test host guest for the host tests: booted once per session (or the one already running
reused and left running), stopped at the end only if this session booted it. Every guest test
module shares it: a boot costs a minute under emulation, so no test boots a machine of its own,
and each test that changes the guest leaves it as it found it (``guest_left_as_found``).

Booting needs qemu and a built image (scripts/setup.sh installs the programs; the first boot
builds the image, ~70 s, then ~40-60 s per boot under emulation). When it cannot boot the tests
are skipped saying why; under CI (CI=true) that is a failure, never a silent skip.
"""

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import IO

import pytest

from opsproof.errors import OpsproofError
from opsproof.support.filelock import exclusive
from opsproof.testhost.layout import CacheLayout, default_cache_dir
from opsproof.testhost.machine import GuestState, down, status, up
from opsproof.transport.ssh import SshSession
from tests.testhost.units import guest_snapshot

LAST_USER_WAIT = 1800.0
"""How long the booting session waits for other sessions still using the guest."""


def users_lock(layout: CacheLayout) -> Path:
    return layout.run / "users.lock"


def _say(config: pytest.Config, message: str) -> None:
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        print(f"\n{message}")


@pytest.fixture(scope="session")
def testhost_layout() -> CacheLayout:
    return CacheLayout(default_cache_dir().absolute())


@pytest.fixture(scope="session")
def guest(testhost_layout: CacheLayout, pytestconfig: pytest.Config) -> Iterator[GuestState]:
    """The running guest; its boot (and image build) timed and printed. Every session using it
    holds a shared lock, so the one that booted it (xdist workers are sessions too) stops it
    only once the others are done."""
    testhost_layout.run.mkdir(parents=True, exist_ok=True)
    with users_lock(testhost_layout).open("a") as users:
        fcntl.flock(users, fcntl.LOCK_SH)
        yield from _guest(testhost_layout, pytestconfig, users)


def _guest(layout: CacheLayout, config: pytest.Config, users: IO[str]) -> Iterator[GuestState]:
    running = status(layout)
    if running is not None:
        _say(config, f"testhost reused: {running.ssh_url} (accel {running.accel})")
        yield running
        return
    began = time.monotonic()
    try:
        state = up(layout, lambda message: _say(config, message))
    except OpsproofError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the test host cannot boot: {error}", pytrace=False)
        pytest.skip(f"the test host cannot boot: {error}")
    _say(
        config,
        f"testhost up in {time.monotonic() - began:.1f} s (accel {state.accel}, sshd after "
        f"{state.boot_seconds} s, systemd {state.system_state} after {state.ready_seconds} s)",
    )
    yield state
    fcntl.flock(users, fcntl.LOCK_UN)
    with exclusive(users_lock(layout), LAST_USER_WAIT):
        began = time.monotonic()
        down(layout)
        _say(config, f"testhost down in {time.monotonic() - began:.1f} s")
    assert status(layout) is None, "qemu still runs after testhost down"


@pytest.fixture(scope="session")
def session(guest: GuestState) -> Iterator[SshSession]:
    """A multiplexed connection to the guest, as the unprivileged user, for every test (a
    login costs seconds under emulation); tests that break a connection open their own."""
    with SshSession(guest.endpoint()) as opened:
        yield opened


@pytest.fixture(scope="session")
def root_session(guest: GuestState) -> Iterator[SshSession]:
    """The same, with sudo for commands that change the guest."""
    with SshSession(guest.endpoint(sudo=True)) as opened:
        yield opened


@pytest.fixture(scope="session")
def guest_baseline(session: SshSession) -> str:
    """What the guest looked like before the first test that changes it."""
    return guest_snapshot(session)


@pytest.fixture(autouse=True)
def guest_left_as_found(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test with root on the guest leaves it as the session found it: no unit, timer or
    drop-in of its own left, Redis and PostgreSQL running, unfrozen, under their own limits, no
    stressor in Redis's cgroup (one round trip, after the test's own cleanup)."""
    if "root_session" not in request.fixturenames:
        yield
        return
    baseline = request.getfixturevalue("guest_baseline")
    yield
    left = guest_snapshot(request.getfixturevalue("session"))
    assert left == baseline, f"the test left the guest changed:\n{left}\nfound:\n{baseline}"
