"""opsproof as a user gets it: a wheel built from this tree, installed into a fresh virtualenv
that cannot see the checkout, run from an empty directory.

The wheel's dependencies come from a wheelhouse kept in the test virtualenv, keyed by the
wheel's ``Requires-Dist`` lines: built once (about 35 s), then each session's fresh virtualenv
installs from it without an index (about 15 s).
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from tests.project import PROJECT_ROOT

BUILD_TIMEOUT = 300
INSTALL_TIMEOUT = 900
WHEELHOUSE = Path(sys.prefix) / "opsproof-wheelhouse"


@dataclass(frozen=True)
class Installed:
    """A virtualenv holding opsproof from its wheel, and nothing of the checkout."""

    venv: Path
    wheel: Path

    def run(
        self, program: str, *args: str, cwd: Path, timeout: float, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``program`` of the virtualenv (``opsproof``, ``python``) run in ``cwd``."""
        return subprocess.run(
            [str(self.venv / "bin" / program), *args],
            cwd=cwd,
            env=clean_environment() | (env or {}),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def clean_environment() -> dict[str, str]:
    """This process's environment without anything that would point Python at the checkout."""
    dropped = {"PYTHONPATH", "VIRTUAL_ENV", "OPSPROOF_CONFIG", "PYTHONSTARTUP"}
    return {name: value for name, value in os.environ.items() if name not in dropped}


def _source_copy(target: Path) -> Path:
    """The tree's files as git sees them (tracked, or new and not ignored): no build/, no
    egg-info, no caches of the checkout can reach the wheel."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source = PROJECT_ROOT / name
        if not source.is_symlink() and not source.exists():
            continue  # deleted in the work tree, not yet in the index
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination, follow_symlinks=False)
    return target


def _requirements_digest(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    requires = "\n".join(
        line for line in lines if line.startswith("Requires-Dist:") and "extra ==" not in line
    )
    return hashlib.sha256(requires.encode()).hexdigest()[:16]


def _wheelhouse(wheel: Path) -> Path:
    """Wheels of every dependency of ``wheel``, collected once per set of requirements."""
    house = WHEELHOUSE / _requirements_digest(wheel)
    if house.is_dir():
        return house
    partial_house = house.with_name(f"{house.name}.partial-{os.getpid()}")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", str(wheel), "-w", str(partial_house)],
        check=True,
        timeout=INSTALL_TIMEOUT,
    )
    for own in partial_house.glob("opsproof-*.whl"):
        own.unlink()  # the wheel under test is installed from its own path, never from here
    for outdated in WHEELHOUSE.iterdir():  # houses of earlier requirements
        if ".partial-" not in outdated.name:  # one another session is building stays
            shutil.rmtree(outdated, ignore_errors=True)
    partial_house.rename(house)
    return house


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """opsproof's wheel, built from this tree and installed into a fresh virtualenv."""
    source = _source_copy(tmp_path_factory.mktemp("source"))
    dist = tmp_path_factory.mktemp("dist")
    build = ("wheel", "-q", "--no-deps", "--no-build-isolation", str(source), "-w", str(dist))
    subprocess.run([sys.executable, "-m", "pip", *build], check=True, timeout=BUILD_TIMEOUT)
    (wheel,) = dist.glob("opsproof-*.whl")
    house = _wheelhouse(wheel)
    environment = tmp_path_factory.mktemp("venv")
    venv.create(environment, with_pip=False)  # pip runs from outside: `pip --python`
    target = ("--python", str(environment / "bin" / "python"))
    install = ("install", "-q", "--no-index", "--find-links", str(house), str(wheel))
    subprocess.run(
        [sys.executable, "-m", "pip", *target, *install], check=True, timeout=INSTALL_TIMEOUT
    )
    return Installed(environment, wheel)


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    """Where a user stands: a directory with nothing of opsproof in it."""
    directory = tmp_path / "work"
    directory.mkdir()
    return directory


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A web server opsproof did not start (the stdlib's, on 127.0.0.1): its URL and the
    directory it serves."""
    site = tmp_path / "site"
    site.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", site
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
