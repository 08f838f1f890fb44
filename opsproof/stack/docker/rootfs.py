"""The base image's root filesystem, assembled from Debian packages installed on this host.

Why not debootstrap: every program the stack runs is already installed here (scripts/setup.sh
installs it for the process stack), so copying those packages' files and their dependency
closure takes seconds and no network, and the containers run the very binaries the process
stack is tested with. Maintainer scripts are not run: the few things they would create
(users, directories) are written here.
"""

import importlib.util
import io
import subprocess
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from opsproof.errors import StackError

DPKG_TIMEOUT = 60.0
POSTGRES_UID = 999
NOBODY = 65534

PRUNED = {
    "postgresql-common": "Debian's cluster wrappers (perl); initdb and postgres run directly",
    "postgresql-client-common": "the same wrappers for the client programs",
    "libllvm": "PostgreSQL's JIT (130 MB), switched off in the containers (jit=off)",
    "locales": "locale generation; the cluster is initialised with --locale=C",
}
"""Dependencies left out (prefix match), and why the containers never need them."""

EXCLUDED = (
    "usr/share/doc/",
    "usr/share/man/",
    "usr/share/info/",
    "usr/share/locale/",
    "usr/share/lintian/",
    "usr/lib/postgresql/*/lib/llvmjit",
    "usr/lib/postgresql/*/lib/bitcode/",
)
MERGED_USR = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}

PASSWD = f"""root:x:0:0:root:/root:/bin/sh
postgres:x:{POSTGRES_UID}:{POSTGRES_UID}:PostgreSQL:/var/lib/postgresql:/bin/sh
nobody:x:{NOBODY}:{NOBODY}:nobody:/nonexistent:/usr/sbin/nologin
"""
GROUP = f"""root:x:0:
postgres:x:{POSTGRES_UID}:
nogroup:x:{NOBODY}:
"""
DIRECTORIES = {
    # path: (uid, mode); data directories belong to the user that writes them, and a new named
    # volume copies its mount point's owner and mode from the image.
    "tmp": (0, 0o1777),
    "root": (0, 0o700),
    "proc": (0, 0o555),
    "sys": (0, 0o555),
    "dev": (0, 0o755),
    "run": (0, 0o755),
    "var/tmp": (0, 0o1777),
    "var/lib/postgresql": (POSTGRES_UID, 0o755),
    "var/lib/postgresql/data": (POSTGRES_UID, 0o700),
    "data": (NOBODY, 0o755),
}


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    depends: tuple[tuple[str, ...], ...]
    """Each dependency as its alternatives (``a | b``), names only."""
    provides: tuple[str, ...]


def _dpkg_query(*args: str) -> str:
    try:
        return subprocess.run(
            ["dpkg-query", *args], capture_output=True, text=True, timeout=DPKG_TIMEOUT, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise StackError(f"dpkg-query {args[0]} failed ({exc}); this needs Debian") from None


def _names(field: str) -> tuple[tuple[str, ...], ...]:
    """``libc6 (>= 2.34), a | b:any`` → ``(("libc6",), ("a", "b"))``."""
    groups = []
    for group in filter(None, (g.strip() for g in field.split(","))):
        groups.append(tuple(alt.split()[0].split(":")[0] for alt in group.split("|")))
    return tuple(groups)


def installed() -> dict[str, Package]:
    """Every installed package by name."""
    fields = "${Package}\t${Version}\t${db:Status-Status}\t${Pre-Depends}, ${Depends}\t${Provides}"
    found = {}
    for line in _dpkg_query("-W", "-f", fields + "\n").splitlines():
        name, version, status, depends, provides = line.split("\t")
        if status == "installed":
            provided = tuple(p[0] for p in _names(provides))
            found[name] = Package(name, version, _names(depends), provided)
    return found


def _pruned(name: str) -> bool:
    return any(name.startswith(prefix) for prefix in PRUNED)


def closure(roots: Iterable[str], packages: dict[str, Package]) -> list[Package]:
    """``roots`` and everything they depend on, minus PRUNED; the first installed alternative
    (or provider of a virtual package) is taken. Raises StackError for a missing root."""
    providers = {v: p.name for p in packages.values() for v in p.provides}
    missing = [r for r in roots if r not in packages]
    if missing:
        raise StackError(
            f"not installed: {', '.join(missing)}; the image is built from installed packages:"
            f" bash scripts/setup.sh (as root) installs them"
        )
    todo, seen = list(roots), set[str]()
    while todo:
        name = todo.pop()
        if name in seen or _pruned(name):
            continue
        seen.add(name)
        for alternatives in packages[name].depends:
            choice = next(
                (providers.get(a, a) for a in alternatives if a in packages or a in providers),
                None,
            )
            if choice is not None:
                todo.append(choice)
    return sorted((packages[name] for name in seen), key=lambda p: p.name)


def _arcname(path: str) -> str:
    """Package path → path in the merged-/usr image (``/bin/dash`` → ``usr/bin/dash``)."""
    relative = path.lstrip("/")
    top, _, rest = relative.partition("/")
    if top in MERGED_USR and rest:
        return f"{MERGED_USR[top]}/{rest}"
    return relative


def _excluded(arcname: str) -> bool:
    for pattern in EXCLUDED:
        head, star, tail = pattern.partition("*/")
        if not star and arcname.startswith(head):
            return True
        if star and arcname.startswith(head):
            rest = arcname[len(head) :].partition("/")[2]
            if rest.startswith(tail):
                return True
    return False


def package_paths(packages: Iterable[Package]) -> list[str]:
    """Every path the packages installed (``dpkg-query -L``), host paths, with the bytecode
    their maintainer scripts compiled for each ``.py`` file: without it, every container start
    (and every Python health check) would compile the standard library again."""
    listing = _dpkg_query("-L", *(p.name for p in packages))
    paths = {line for line in listing.splitlines() if line.startswith("/")}
    for path in [p for p in paths if p.endswith(".py")]:
        cached = importlib.util.cache_from_source(path)
        paths.update((str(Path(cached).parent), cached))
    return sorted(paths)


def _root_owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _text(tar: tarfile.TarFile, name: str, content: str, mode: int = 0o644) -> None:
    data = content.encode()
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def _skeleton(tar: tarfile.TarFile) -> None:
    for top, target in MERGED_USR.items():
        link = tarfile.TarInfo(top)
        link.type, link.linkname = tarfile.SYMTYPE, target
        tar.addfile(link)
    for name, (uid, mode) in DIRECTORIES.items():
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, mode, uid, uid
        tar.addfile(info)
    _text(tar, "etc/passwd", PASSWD)
    _text(tar, "etc/group", GROUP)


def write_rootfs(out: Path, packages: Iterable[Package], extra: dict[str, Path]) -> int:
    """Write the image tarball: skeleton, every file of ``packages``, and each ``extra`` host
    directory at its image path. Returns the number of entries."""
    written: set[str] = set()
    with tarfile.open(out, "w") as tar:
        _skeleton(tar)
        written.update(MERGED_USR, DIRECTORIES, ("etc/passwd", "etc/group"))
        for path in package_paths(packages):
            arcname = _arcname(path)
            if arcname in written or _excluded(arcname) or not Path(path).exists():
                continue
            tar.add(path, arcname=arcname, recursive=False, filter=_root_owned)
            written.add(arcname)
        for image_path, host_dir in extra.items():
            tar.add(host_dir, arcname=image_path.strip("/"), filter=_root_owned)
            written.add(image_path)
    return len(written)
