"""The accelerator probe: KVM only when a kernel really runs under it, decided within a bound,
and the verdict cached."""

import json
import time
from pathlib import Path

import pytest

from opsproof.support.programs import find_program
from opsproof.testhost.accel import PROBE_TIMEOUT, choose_accel, kvm_runs


@pytest.fixture
def qemu() -> str:
    return find_program("qemu-system-x86_64", package="qemu-system-x86")


def test_a_kernel_that_does_not_boot_means_no_kvm_within_the_bound(
    qemu: str, tmp_path: Path
) -> None:
    not_a_kernel = tmp_path / "vmlinuz"
    not_a_kernel.write_bytes(b"\0" * 4096)

    began = time.monotonic()
    assert not kvm_runs(qemu, not_a_kernel)
    assert time.monotonic() - began < PROBE_TIMEOUT + 5


def test_the_verdict_is_cached_and_can_be_forced(
    qemu: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_kernel = tmp_path / "vmlinuz"
    not_a_kernel.write_bytes(b"\0" * 4096)
    cache = tmp_path / "accel.json"

    assert choose_accel(qemu, not_a_kernel, cache) == "tcg"
    assert json.loads(cache.read_text())["accel"] == "tcg"
    monkeypatch.setenv("OPSPROOF_TESTHOST_ACCEL", "kvm")
    assert choose_accel(qemu, not_a_kernel, cache) == "kvm"
