"""The stack's images, built locally (there is no registry) and cached by a content hash.

Two images, shared by every container: ``opsproof/base`` (the programs and Python libraries,
imported from a root filesystem; see rootfs.py) and ``opsproof/reference`` (the base plus the
reference service's source, one small committed layer). A tag is a hash of everything that
goes into the image, so a repeat run finds it and builds nothing, and a change rebuilds.
"""

import hashlib
import io
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import APIError, ImageNotFound

from opsproof.stack.components import service_dir
from opsproof.stack.docker import pythonlib, rootfs
from opsproof.support.programs import postgres_bin_dir

BASE_REPOSITORY = "opsproof/base"
SERVICE_REPOSITORY = "opsproof/reference"
SITE_DIR = "/opt/opsproof/site"
SERVICE_DIR = "/opt/opsproof/service"
TAG_LENGTH = 16
LABEL = "opsproof.image"
ENV = (
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
    f"PYTHONPATH={SITE_DIR}:{SERVICE_DIR}",
    "PYTHONDONTWRITEBYTECODE=1",
    "LANG=C.UTF-8",
)
RECIPE_SOURCES = (Path(rootfs.__file__), Path(pythonlib.__file__), Path(__file__))
"""Changing how the image is made changes its hash too."""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Built:
    image: str
    cached: bool
    seconds: float


@dataclass(frozen=True)
class Images:
    base: Built
    service: Built


def roots() -> list[str]:
    """The packages the containers run: the stack's programs, a /bin/sh, and the file tools
    every database image has (a DR drill's helper containers copy and check volumes with
    them: cp, find, stat, df)."""
    major = postgres_bin_dir().parent.name
    programs = ["redis-server", "nginx-light", f"postgresql-{major}", "python3"]
    return [*programs, "dash", "coreutils", "findutils"]


def _digest(parts: list[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:TAG_LENGTH]


def _exists(client: docker.DockerClient, image: str) -> bool:
    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    return True


def _prune_older(client: docker.DockerClient, repository: str, keep: str) -> None:
    """Untag earlier builds of ``repository``; one still used by a container stays."""
    for image in client.images.list(name=repository):
        for tag in image.tags:
            if tag != keep:
                try:
                    client.images.remove(tag)
                except APIError:
                    continue


def ensure_base(client: docker.DockerClient, say: Progress) -> Built:
    """The base image for the installed packages and pinned libraries; built when missing."""
    began = time.monotonic()
    packages = rootfs.closure(roots(), rootfs.installed())
    pins = pythonlib.pins()
    parts = [f"{p.name}={p.version}".encode() for p in packages]
    parts += [pin.encode() for pin in pins] + [source.read_bytes() for source in RECIPE_SOURCES]
    image = f"{BASE_REPOSITORY}:{_digest(parts)}"
    if _exists(client, image):
        return Built(image, True, time.monotonic() - began)
    python = next(p.version for p in packages if p.name == "python3")
    with tempfile.TemporaryDirectory(prefix="opsproof-image-") as scratch:
        site = Path(scratch) / "site"
        say(f"building {image}: Python libraries ({', '.join(pins)})")
        # the full upstream version: some markers compare it (python_full_version < "3.11.3")
        pythonlib.install(site, python.split("-")[0])
        say(f"building {image}: root filesystem from {len(packages)} installed packages")
        tarball = Path(scratch) / "rootfs.tar"
        rootfs.write_rootfs(tarball, packages, {SITE_DIR: site})
        say(f"building {image}: docker import ({tarball.stat().st_size >> 20} MiB)")
        repository, tag = image.split(":")
        client.api.import_image_from_file(
            str(tarball),
            repository=repository,
            tag=tag,
            changes=[*(f"ENV {env}" for env in ENV), f"LABEL {LABEL}=base"],
        )
    _prune_older(client, BASE_REPOSITORY, image)
    return Built(image, False, time.monotonic() - began)


def _service_files() -> list[Path]:
    package = service_dir() / "reference_service"
    return sorted(p for p in package.iterdir() if p.suffix in (".py", ".sql"))


def _service_archive(files: list[Path]) -> bytes:
    """``service/reference_service/*`` as a tar, to unpack under /opt/opsproof."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in ("service", "service/reference_service"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for path in files:
            info = tarfile.TarInfo(f"service/reference_service/{path.name}")
            data = path.read_bytes()
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def ensure_service(client: docker.DockerClient, base: str, say: Progress) -> Built:
    """The base plus the reference service's source: one layer, committed when missing."""
    began = time.monotonic()
    files = _service_files()
    image = f"{SERVICE_REPOSITORY}:{_digest([base.encode(), *(f.read_bytes() for f in files)])}"
    if _exists(client, image):
        return Built(image, True, time.monotonic() - began)
    say(f"building {image}: reference service layer on {base}")
    container = client.containers.create(base, command=["/bin/true"], network_mode="none")
    try:
        container.put_archive("/opt/opsproof", _service_archive(files))
        repository, tag = image.split(":")
        container.commit(
            repository=repository,
            tag=tag,
            changes=[f"LABEL {LABEL}=reference", 'CMD ["python3"]'],
        )
    finally:
        container.remove(force=True)
    _prune_older(client, SERVICE_REPOSITORY, image)
    return Built(image, False, time.monotonic() - began)


def ensure_images(client: docker.DockerClient, say: Progress) -> Images:
    """Both images, built only where the hash has no image yet."""
    base = ensure_base(client, say)
    return Images(base, ensure_service(client, base.image, say))
