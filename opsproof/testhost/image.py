"""The test host's disk image: Debian 12 with systemd, sshd, Redis and PostgreSQL, built once.

Every package is installed here, on this machine, from the Debian mirror it uses (mmdebstrap,
which keeps package services from starting in the build directory); the running guest never
downloads anything. The guest's SSH host key and the client key are generated here too, so a
known_hosts entry exists before the first boot and host keys are checked strictly.
"""

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from opsproof.errors import TestHostError
from opsproof.support.filelock import exclusive
from opsproof.support.programs import find_program
from opsproof.support.text import one_line
from opsproof.testhost.layout import CacheLayout

Progress = Callable[[str], None]
"""Where a build reports its steps (the CLI prints them to stderr)."""

SUITE = "bookworm"
PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "udev", "iproute2", "procps", "openssh-server", "sudo",
    "linux-image-cloud-amd64", "initramfs-tools", "redis-server", "postgresql", "coreutils",
    "nftables",
)  # fmt: skip
GUEST_USER = "opsproof"
DISK_SIZE = "4G"
"""Sparse: what the packages take (~700 MB) plus room for data and disk faults."""
RECIPE_VERSION = 1
"""Raised whenever the guest's configuration below changes, so cached images are rebuilt."""
BUILD_TIMEOUT = 1500.0
MKFS_TIMEOUT = 600.0

_NETWORK = "[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n"
_SSHD = (
    "HostKey /etc/ssh/ssh_host_ed25519_key\nPasswordAuthentication no\n"
    "KbdInteractiveAuthentication no\nPermitRootLogin no\nUseDNS no\n"
)
# Reached only through qemu's user network (hostfwd on the runner's 127.0.0.1), so the
# services listen on the guest's interface; nothing outside this machine can connect.
_REDIS = (
    "\n# opsproof testhost: reachable through qemu's hostfwd only\n"
    "bind 0.0.0.0\nprotected-mode no\n"
)
_POSTGRES_CONF = "listen_addresses = '*'\n"
_POSTGRES_HBA = "host all all 10.0.2.2/32 scram-sha-256\n"
_MASKED = (
    "systemd-networkd-wait-online.service", "apt-daily.timer", "apt-daily-upgrade.timer",
    "e2scrub_all.timer", "fstrim.timer", "man-db.timer",
)  # fmt: skip


@dataclass(frozen=True)
class ImageFacts:
    """What a build produced and how long it took; kept beside the image as image.json."""

    recipe: str
    built_at: float
    build_seconds: float
    kernel: str
    mirror: str

    def as_dict(self) -> dict[str, object]:
        return dict(vars(self))


def recipe_digest() -> str:
    """Changes whenever what goes into the image changes."""
    parts = (RECIPE_VERSION, SUITE, PACKAGES, GUEST_USER, DISK_SIZE, _NETWORK, _SSHD, _REDIS)
    text = json.dumps([*parts, _POSTGRES_CONF, _POSTGRES_HBA, _MASKED])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_facts(layout: CacheLayout) -> ImageFacts | None:
    """The cached image's facts when it is complete and built from today's recipe."""
    try:
        data = json.loads(layout.image_facts.read_text())
        facts = ImageFacts(**data)
    except (OSError, ValueError, TypeError):
        return None
    wanted = (layout.disk, layout.kernel, layout.initrd, layout.client_key, layout.host_key_pub)
    if facts.recipe != recipe_digest() or not all(p.exists() for p in wanted):
        return None
    return facts


def ensure_image(layout: CacheLayout, progress: Progress) -> ImageFacts:
    """The cached image, built first when missing or outdated (one build at a time)."""
    if facts := cached_facts(layout):
        return facts
    with exclusive(layout.root / "build.lock", BUILD_TIMEOUT, TestHostError("another build")):
        if facts := cached_facts(layout):
            return facts
        return build_image(layout, progress)


def build_image(layout: CacheLayout, progress: Progress) -> ImageFacts:
    """Build the image into a scratch directory, then move it into place."""
    if os.geteuid() != 0:
        raise TestHostError("building the test host image needs root (mmdebstrap, mkfs.ext4 -d)")
    began = time.monotonic()
    scratch = layout.root / f"build-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    rootfs = scratch / "rootfs"
    scratch.mkdir(parents=True)
    try:
        mirror = host_mirror()
        progress(f"testhost: installing Debian {SUITE} and {len(PACKAGES)} packages from {mirror}")
        _step(
            [
                find_program("mmdebstrap", package="mmdebstrap"),
                "--mode=root", "--variant=minbase", "--quiet",
                f"--include={','.join(PACKAGES)}", SUITE, str(rootfs), mirror,
            ],
            BUILD_TIMEOUT, "mmdebstrap",
        )  # fmt: skip
        progress("testhost: configuring the guest (network, sshd, keys, services)")
        _configure(rootfs, scratch)
        kernel, initrd = _boot_files(rootfs)
        shutil.copy2(kernel, scratch / "vmlinuz")
        shutil.copy2(initrd, scratch / "initrd.img")
        progress("testhost: writing the ext4 disk image")
        disk = scratch / "disk.img"
        _step(["truncate", "-s", DISK_SIZE, str(disk)], 30, "truncate")
        mkfs = find_program("mkfs.ext4", package="e2fsprogs")
        _step(
            [mkfs, "-q", "-F", "-L", "testhost", "-d", str(rootfs), str(disk)], MKFS_TIMEOUT, "mkfs"
        )
        facts = ImageFacts(
            recipe=recipe_digest(),
            built_at=time.time(),
            build_seconds=round(time.monotonic() - began, 1),
            kernel=kernel.name.removeprefix("vmlinuz-"),
            mirror=mirror,
        )
        for name in (
            "disk.img",
            "vmlinuz",
            "initrd.img",
            "id_ed25519",
            "id_ed25519.pub",
            "host_ed25519.pub",
        ):
            (scratch / name).replace(layout.root / name)
        layout.image_facts.write_text(json.dumps(facts.as_dict(), indent=2))
        return facts
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def host_mirror() -> str:
    """The apt sources this machine uses (a deb822 file mmdebstrap reads as it is), else the
    Debian mirror; $OPSPROOF_TESTHOST_MIRROR overrides."""
    if override := os.environ.get("OPSPROOF_TESTHOST_MIRROR"):
        return override
    for candidate in (
        Path("/etc/apt/sources.list.d/debian.sources"),
        Path("/etc/apt/sources.list"),
    ):
        if candidate.is_file() and candidate.stat().st_size > 0:
            return str(candidate)
    return "http://deb.debian.org/debian"


def _configure(rootfs: Path, scratch: Path) -> None:
    etc = rootfs / "etc"
    (etc / "hostname").write_text("opsproof-testhost\n")
    (etc / "hosts").write_text("127.0.0.1 localhost\n127.0.1.1 opsproof-testhost\n")
    (etc / "fstab").write_text("/dev/vda / ext4 rw,errors=remount-ro 0 1\n")
    (etc / "systemd/network/10-guest.network").write_text(_NETWORK)
    (etc / "ssh/sshd_config.d/opsproof.conf").write_text(_SSHD)
    with (etc / "redis/redis.conf").open("a") as conf:
        conf.write(_REDIS)
    for pg_conf in etc.glob("postgresql/*/main"):
        (pg_conf / "conf.d/opsproof.conf").write_text(_POSTGRES_CONF)
        with (pg_conf / "pg_hba.conf").open("a") as hba:
            hba.write(_POSTGRES_HBA)
    for old in (etc / "ssh").glob("ssh_host_*"):
        old.unlink()
    keygen = find_program("ssh-keygen", package="openssh-client")
    host_key = etc / "ssh/ssh_host_ed25519_key"
    _step(
        [keygen, "-q", "-t", "ed25519", "-N", "", "-C", "opsproof-testhost", "-f", str(host_key)],
        30,
        "ssh-keygen",
    )
    shutil.copy2(host_key.with_suffix(".pub"), scratch / "host_ed25519.pub")
    client_key = scratch / "id_ed25519"
    _step(
        [keygen, "-q", "-t", "ed25519", "-N", "", "-C", "opsproof-runner", "-f", str(client_key)],
        30,
        "ssh-keygen",
    )
    chroot = ["chroot", str(rootfs)]
    _step([*chroot, "useradd", "--create-home", "--shell", "/bin/bash", GUEST_USER], 60, "useradd")
    home = rootfs / "home" / GUEST_USER / ".ssh"
    home.mkdir(mode=0o700)
    (home / "authorized_keys").write_text(client_key.with_suffix(".pub").read_text())
    _step(
        [*chroot, "chown", "-R", f"{GUEST_USER}:{GUEST_USER}", f"/home/{GUEST_USER}/.ssh"],
        30,
        "chown",
    )
    sudoers = etc / "sudoers.d" / GUEST_USER
    sudoers.write_text(f"{GUEST_USER} ALL=(ALL) NOPASSWD: ALL\n")
    sudoers.chmod(0o440)
    systemctl = ["systemctl", f"--root={rootfs}"]
    _step([*systemctl, "enable", "systemd-networkd.service", "ssh.service"], 60, "systemctl enable")
    _step([*systemctl, "mask", *_MASKED], 60, "systemctl mask")


def _boot_files(rootfs: Path) -> tuple[Path, Path]:
    kernels = sorted((rootfs / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise TestHostError(f"no kernel in {rootfs}/boot: linux-image-cloud-amd64 did not install")
    kernel = kernels[-1]
    initrd = kernel.with_name("initrd.img-" + kernel.name.removeprefix("vmlinuz-"))
    if not initrd.exists():
        raise TestHostError(f"no initrd beside {kernel.name}: initramfs-tools did not run")
    return kernel, initrd


def _step(argv: list[str], timeout: float, name: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise TestHostError(f"image build: {name} did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise TestHostError(
            f"image build: {name} exited with {done.returncode}: {one_line(tail[0])}"
        )
