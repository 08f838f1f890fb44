"""A process's health command (a worker's ping): run with a deadline and a bounded output,
judged by its exit status and, if declared, a text its output must contain."""

from pathlib import PurePath

from opsproof.config.models import ProcessHealthSpec
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed
from opsproof.support.commands import run_bounded
from opsproof.support.text import one_line


@timed
def health_command(name: str, spec: ProcessHealthSpec) -> Observation:
    """Exit status ``expect_exit`` within ``timeout``, and ``expect_output`` in what it printed;
    a command that hangs is killed (with what it started) and fails with the time it took."""
    program, *arguments = spec.command
    shown = " ".join([PurePath(program).name, *arguments])  # the directory is in the config
    target = f"{name} health: {one_line(shown, 120)}"
    run = run_bounded(spec.command, spec.timeout)
    took = f"{run.elapsed_s:.2f} s"
    figures = {"elapsed_s": Figure(round(run.elapsed_s, 3), "s", f"< {spec.timeout:g}")}
    if run.start_error is not None:
        reason = (
            f"{target}: could not run: {run.start_error}; fix health.command (a program "
            "on PATH or its full path)"
        )
        return Observation(False, target, reason, figures)
    said = f": {one_line(run.output)}" if run.output.strip() else " (no output)"
    if run.timed_out:
        reason = (
            f"{target}: no answer within its timeout of {spec.timeout:g} s; killed after "
            f"{took}{said}"
        )
        return Observation(False, target, reason, figures)
    figures["exit_code"] = Figure(run.exit_code, target=f"== {spec.expect_exit}")
    if run.exit_code != spec.expect_exit:
        reason = f"{target}: exited {run.exit_code} (expected {spec.expect_exit}) in {took}{said}"
        return Observation(False, target, reason, figures)
    if spec.expect_output is not None and spec.expect_output not in run.output:
        cut = " (output cut at 64 KiB)" if run.truncated else ""
        reason = (
            f"{target}: exited {run.exit_code} in {took} but its output lacks "
            f"{one_line(spec.expect_output, 60)!r}{cut}{said}"
        )
        return Observation(False, target, reason, figures)
    return Observation(True, target, f"{target}: exited {run.exit_code} in {took}{said}", figures)
