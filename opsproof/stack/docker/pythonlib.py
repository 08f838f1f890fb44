"""The reference service's Python libraries for the image, at the versions tested here.

pip installs them into a directory that becomes ``/opt/opsproof/site`` in the image; the
versions are those of this interpreter's environment, so the containers run what the process
stack runs.
"""

import subprocess
import sys
from importlib import metadata
from pathlib import Path

from opsproof.errors import StackError

REQUIREMENTS = (
    "fastapi",
    "python-multipart",
    "uvicorn",
    "redis",
    "psycopg[binary]",
    "prometheus-client",
)
IMAGE_ONLY = ("async-timeout>=4.0.3",)
"""Needed by redis below Python 3.11.3 (Debian 12 has 3.11.2). pip evaluates markers for the
interpreter it runs on, not for ``--python-version``, so it would leave this out."""
PIP_TIMEOUT = 300.0


def pins() -> list[str]:
    """``name==version`` for each requirement, from the installed distributions."""
    pinned = []
    for requirement in REQUIREMENTS:
        name, _, extra = requirement.partition("[")
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            raise StackError(
                f"{name} is not installed here; pip install -e . installs the service's libraries"
            ) from None
        pinned.append(f"{name}{'[' + extra if extra else ''}=={version}")
    return [*pinned, *IMAGE_ONLY]


def install(target: Path, python_version: str) -> None:
    """Install the pinned libraries as wheels for ``python_version`` (the image's) into
    ``target``; wheels only, so nothing is compiled for the wrong interpreter."""
    command = [
        *(sys.executable, "-m", "pip", "install", "--quiet", "--no-input"),
        *("--disable-pip-version-check", "--only-binary=:all:"),
        *("--python-version", python_version, "--target", str(target), *pins()),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise StackError(f"pip install for the image took longer than {PIP_TIMEOUT:g} s") from None
    if done.returncode != 0:
        raise StackError(f"pip install for the image failed:\n{done.stderr[-2000:]}")
