"""promtool and amtool as subprocesses with deadlines, their complaints as ``file:line`` findings.

Both tools word a problem in several ways (``f.yml: 7:15: ...``, ``yaml: line 3: ...``,
``unmarshal errors:`` followed by ``line 6: ...`` lines); every form is turned into one finding.
A YAML syntax error is located with PyYAML as well, because Go's YAML parser names the line
where the broken block starts, not the line that breaks it.
"""

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from opsproof.errors import ToolMissing

TOOL_TIMEOUT = 30.0

_AT = re.compile(
    r"(?P<file>[^\s:']+): (?P<yaml>yaml: )?(?:line )?(?P<line>\d+)(?::(?P<col>\d+))?: (?P<msg>.+)"
)
_UNMARSHAL = re.compile(r"(?P<file>[^\s:']+): yaml: unmarshal errors:")
_LINE = re.compile(r"^\s*line (?P<line>\d+): (?P<msg>.+)")
_CHECKING = re.compile(r"^Checking '?(?P<file>[^'\s]+)'?")
_FAILED = re.compile(r"FAILED: (?P<msg>.+)")


@dataclass(frozen=True)
class ToolFinding:
    """One problem a tool reported, where it is."""

    file: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ToolRun:
    """A finished tool run: its exit status and what it printed (stdout and stderr)."""

    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_tool(program: str, package: str, args: list[str], timeout: float = TOOL_TIMEOUT) -> ToolRun:
    """Run ``program args`` with a deadline; a timeout counts as a failed run."""
    path = shutil.which(program)
    if path is None:
        raise ToolMissing(f"{program} not found on PATH: install it (apt-get install {package})")
    try:
        done = subprocess.run(
            [path, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ToolRun(-1, f"{program} {' '.join(args)}: no result within {timeout:g} s")
    return ToolRun(done.returncode, done.stdout)


def findings(output: str) -> list[ToolFinding]:
    """Every problem in a promtool or amtool output, located where the tool located it."""
    found: list[ToolFinding] = []
    current: str = ""
    unmarshal: str | None = None
    for raw in output.splitlines():
        if checking := _CHECKING.match(raw):
            current, unmarshal = checking["file"], None
        if located := _UNMARSHAL.search(raw):
            unmarshal = located["file"]
        elif unmarshal is not None and (line := _LINE.match(raw)):
            found.append(ToolFinding(unmarshal, int(line["line"]), None, line["msg"].strip()))
        elif at := _AT.search(raw):
            column = int(at["col"]) if at["col"] else None
            finding = ToolFinding(at["file"], int(at["line"]), column, at["msg"].strip())
            found.append(_refined(finding) if at["yaml"] else finding)
        elif (failed := _FAILED.search(raw)) and failed["msg"].strip():
            found.append(ToolFinding(current, None, None, failed["msg"].strip()))
    return list(dict.fromkeys(found))  # promtool repeats some lines


def _refined(finding: ToolFinding) -> ToolFinding:
    """A YAML syntax error located by PyYAML at the token that breaks the document."""
    try:
        yaml.safe_load(Path(finding.file).read_text())
    except yaml.MarkedYAMLError as exc:
        mark, context = exc.problem_mark, exc.context_mark
        if mark is not None:
            message = str(exc.problem)
            if exc.context and context is not None:
                message += (
                    f", {exc.context} at line {context.line + 1}, column {context.column + 1}"
                )
            return ToolFinding(finding.file, mark.line + 1, mark.column + 1, message)
    except (OSError, yaml.YAMLError):
        return finding
    return finding
