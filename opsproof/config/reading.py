"""Read a config file's text within bounds: a regular file, at most ``MAX_CONFIG_BYTES``, UTF-8.

``--config`` may name anything: a FIFO (open and read would wait for a writer forever), a
device (``/dev/zero`` reads until memory runs out), a directory, or a file far larger than any
deployment description. Each is refused in one line before a byte is parsed.
"""

import os
import stat
from pathlib import Path

from opsproof.errors import ConfigError

MAX_CONFIG_BYTES = 2 << 20
"""2 MiB: a hundred times the shipped config; a larger file is generated or the wrong one."""

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_config_text(path: Path) -> str:
    """The text of ``path``; raises ConfigError saying in one line why it cannot be a config."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (a regular file ignores it)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file; create it (examples/compose-stack.yaml is a starting point) "
            "or pass its path with --config"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot open it ({exc.strerror}); check its permissions"
        ) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
            raise ConfigError(f"{path}: is {kind}, not a file; pass the config file (a .yaml)")
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: larger than {MAX_CONFIG_BYTES >> 20} MiB, more than any deployment needs; "
            "check that this is the config file"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise ConfigError(
            f"{path}:{line}:{column}: byte 0x{data[exc.start]:02x} is not UTF-8; save the file "
            "as UTF-8 text"
        ) from None
