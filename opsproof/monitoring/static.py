"""Static checks of monitoring files with the servers' own tools: a problem names file and line."""

from pathlib import Path

from opsproof.errors import ToolMissing
from opsproof.monitoring.promtool import findings, run_tool
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed
from opsproof.support.text import one_line

PROMTOOL = ("promtool", "prometheus")
AMTOOL = ("amtool", "prometheus-alertmanager")


def _check(tool: tuple[str, str], args: list[str], path: Path) -> Observation:
    program, package = tool
    what = f"{program} {' '.join(args)} {path}"
    if not path.is_file():
        return Observation(False, what, f"{what}: no such file")
    try:
        done = run_tool(program, package, [*args, str(path.absolute())])
    except ToolMissing as exc:
        return Observation(False, what, f"{what}: {exc}")
    if done.ok:
        return Observation(True, what, f"{what}: valid", {"problems": Figure(0, target="== 0")})
    found = findings(done.output)
    # promtool's own words when no finding could be located (e.g. a failed rule unit test)
    detail = "; ".join(str(f) for f in found) or one_line(
        done.output.partition("FAILED:")[2] or done.output, limit=1500
    )
    figures = {"problems": Figure(len(found) or 1, target="== 0")}
    return Observation(False, what, f"{what}: {detail}", figures)


@timed
def prometheus_config_valid(path: Path) -> Observation:
    """``promtool check config``: the file and the rule files it names."""
    return _check(PROMTOOL, ["check", "config"], path)


@timed
def rule_file_valid(path: Path) -> Observation:
    """``promtool check rules``: YAML, rule fields and every PromQL expression."""
    return _check(PROMTOOL, ["check", "rules"], path)


@timed
def rule_tests_pass(path: Path) -> Observation:
    """``promtool test rules``: the team's rule unit tests."""
    return _check(PROMTOOL, ["test", "rules"], path)


@timed
def alertmanager_config_valid(path: Path) -> Observation:
    """``amtool check-config``: routes, receivers and templates."""
    return _check(AMTOOL, ["check-config"], path)
