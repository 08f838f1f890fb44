"""Which qemu accelerator works here: KVM when it really runs a guest, else TCG (emulation).

/dev/kvm existing proves little: on some nested hosts qemu aborts at the first vCPU run (an MSR
the host cannot set) or hangs. So the probe boots the real kernel with no root filesystem and
``panic=-1 -no-reboot``: it panics at once and qemu exits 0 within seconds only if KVM works.
The verdict is cached per qemu binary and host kernel.
"""

import json
import os
import platform
import subprocess
from pathlib import Path

PROBE_TIMEOUT = 20.0
"""A working KVM reaches the kernel's panic in 1-3 s; a hang ends here."""


def choose_accel(qemu: str, kernel: Path, cache: Path) -> str:
    """``kvm`` when the probe boots under it, else ``tcg``; $OPSPROOF_TESTHOST_ACCEL forces one."""
    if forced := os.environ.get("OPSPROOF_TESTHOST_ACCEL"):
        return forced
    key = f"{qemu}:{Path(qemu).stat().st_mtime_ns}:{platform.release()}"
    try:
        cached = json.loads(cache.read_text())
        if cached.get("key") == key:
            return str(cached["accel"])
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    accel = "kvm" if kvm_runs(qemu, kernel) else "tcg"
    cache.write_text(json.dumps({"key": key, "accel": accel}))
    return accel


def kvm_runs(qemu: str, kernel: Path) -> bool:
    """Whether a kernel boots under KVM here (to its expected panic) within the probe's bound."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    argv = [
        qemu, "-accel", "kvm", "-cpu", "max", "-m", "256", "-nodefaults", "-display", "none",
        "-no-reboot", "-kernel", str(kernel),
        "-append", "console=ttyS0 panic=-1 root=/dev/nonexistent",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=PROBE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0
