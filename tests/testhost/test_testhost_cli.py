"""``opsproof testhost``: the guest it boots is what the host features need (systemd, cgroup v2,
Redis, PostgreSQL), reachable with plain ``ssh`` and strict host keys, and isolated."""

import json
import os
import subprocess
import sys
from pathlib import Path

from opsproof.testhost.layout import CacheLayout
from opsproof.testhost.machine import GuestState
from opsproof.transport.ssh import SshSession

OPSPROOF = [sys.executable, "-m", "opsproof.cli"]


def _opsproof(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*OPSPROOF, "testhost", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_status_reports_the_running_guest(guest: GuestState, testhost_layout: CacheLayout) -> None:
    done = _opsproof("status", "--json", "--cache-dir", str(testhost_layout.root))

    assert done.returncode == 0, done.stderr
    reported = json.loads(done.stdout)
    assert reported["pid"] == guest.pid and reported["accel"] in ("kvm", "tcg")
    assert reported["ssh_url"] == f"ssh://opsproof@127.0.0.1:{guest.ports['ssh']}"
    assert reported["boot_seconds"] > 0 and reported["system_state"] == "running"


def test_status_without_a_guest_exits_1(tmp_path: Path) -> None:
    done = _opsproof("status", "--json", "--cache-dir", str(tmp_path))

    assert done.returncode == 1
    assert json.loads(done.stdout) == {"running": False}


def test_a_failed_image_build_is_one_line(tmp_path: Path) -> None:
    # Nothing listens on port 9: mmdebstrap fails at its first download.
    done = _opsproof(
        "up",
        "--cache-dir",
        str(tmp_path),
        env={"OPSPROOF_TESTHOST_MIRROR": "http://127.0.0.1:9/debian"},
    )

    assert done.returncode == 2
    [error] = [line for line in done.stderr.splitlines() if line.startswith("opsproof:")]
    assert error.startswith("opsproof: image build: mmdebstrap exited with")
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("build-*")), "the scratch build directory was left behind"


def test_plain_ssh_with_strict_host_keys_reaches_cgroup_v2_and_the_services(
    guest: GuestState,
) -> None:
    ssh = [
        "ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={guest.known_hosts}", "-i", guest.identity_file,
        "-p", str(guest.ports["ssh"]), f"{guest.user}@127.0.0.1",
    ]  # fmt: skip
    script = "cat /sys/fs/cgroup/cgroup.controllers; systemctl is-active redis-server postgresql"
    done = subprocess.run([*ssh, script], capture_output=True, text=True, timeout=60, check=False)

    controllers, redis, postgres = done.stdout.splitlines()
    assert {"cpu", "memory", "pids"} <= set(controllers.split())
    assert (redis, postgres) == ("active", "active")


def test_the_guest_reaches_nothing_but_its_forwarded_ports_reach_it(
    guest: GuestState, session: SshSession
) -> None:
    # restrict=on: no route out of qemu's user network, not even to the runner (10.0.2.2).
    for address in ("10.0.2.2/22", "1.1.1.1/53", "10.0.2.3/53"):
        probe = session.run(["bash", "-c", f"exec 3<>/dev/tcp/{address}"], timeout=8)
        assert not probe.ok, f"the guest connected to {address}"
    redis = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(guest.ports["redis"]), "PING"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert redis.stdout.strip() == "PONG"
