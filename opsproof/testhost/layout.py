"""Where the test host keeps its cached image and the files of the running guest."""

import os
from dataclasses import dataclass
from pathlib import Path


def default_cache_dir() -> Path:
    """$OPSPROOF_TESTHOST_DIR, else ~/.cache/opsproof/testhost ($XDG_CACHE_HOME honoured)."""
    if override := os.environ.get("OPSPROOF_TESTHOST_DIR"):
        return Path(override)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "opsproof" / "testhost"


@dataclass(frozen=True)
class CacheLayout:
    """The image (built once) at the top, the running guest's files under ``run/``."""

    root: Path

    @property
    def disk(self) -> Path:
        return self.root / "disk.img"

    @property
    def kernel(self) -> Path:
        return self.root / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.root / "initrd.img"

    @property
    def client_key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def host_key_pub(self) -> Path:
        return self.root / "host_ed25519.pub"

    @property
    def image_facts(self) -> Path:
        return self.root / "image.json"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def overlay(self) -> Path:
        return self.run / "overlay.qcow2"

    @property
    def known_hosts(self) -> Path:
        return self.run / "known_hosts"

    @property
    def state(self) -> Path:
        return self.run / "state.json"

    @property
    def pid_file(self) -> Path:
        return self.run / "qemu.pid"

    @property
    def serial_log(self) -> Path:
        return self.run / "serial.log"
