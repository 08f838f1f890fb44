"""Weigh a runtime health reading: running, no restart since the baseline, no OOM kill, memory
and CPU within budget, open files under the share of the limit. A figure that should have been
read and was not fails the item saying why; one the runtime does not have is named as not
applicable and judged on the rest."""

from datetime import UTC, datetime

from pydantic import ByteSize

from opsproof.health.baseline import Record
from opsproof.health.own_faults import OwnFaults
from opsproof.health.policy import HealthPolicy
from opsproof.health.reading import HealthReading
from opsproof.probes.result import Figure, Observation

MIB = 1 << 20


def judge(
    reading: HealthReading,
    policy: HealthPolicy,
    baseline: Record | None,
    own: OwnFaults,
) -> Observation:
    """``own``: opsproof's faults on this runtime since the baseline; each may explain one
    restart, named in the item, never silently."""
    rid = reading.runtime_id
    figures = {"running": Figure(reading.running, target="true")}
    if reading.restarts is not None:
        figures["restarts"] = Figure(reading.restarts)
    if not reading.running:
        return Observation(False, rid, f"{rid}: not running ({reading.state})", figures)
    failures = [reading.trouble] if reading.trouble else []
    failures += [f"cannot read {name}: {why}" for name, why in reading.unread.items()]
    notes = [f"{name} not applicable: {why}" for name, why in reading.absent.items()]
    failures += _restarts(reading, policy, baseline, own, figures, notes)
    failures += _oom(reading, figures)
    failures += _memory(reading, policy, figures)
    failures += _cpu(reading, policy, figures)
    failures += _open_files(reading, policy, figures)
    if notes:  # a passing item keeps no reason: its figures carry what was not judged
        figures["notes"] = Figure("; ".join(notes))
    said = "; ".join(failures or notes)
    reason = f"{rid}: {reading.state}" + (f"; {said}" if said else "")
    return Observation(not failures, rid, reason, figures)


def _restarts(
    reading: HealthReading,
    policy: HealthPolicy,
    baseline: Record | None,
    own: OwnFaults,
    figures: dict[str, Figure],
    notes: list[str],
) -> list[str]:
    rule = "previous gate run" if policy.since == "previous" else f"{_age(policy.since)} ago"
    if baseline is None:
        before = f" ({reading.restarts} restart(s) counted before it)" if reading.restarts else ""
        notes.append(
            f"first reading{before}: recorded as the baseline, restarts judged from the next run"
        )
        figures["restarts_since_baseline"] = Figure(None, target="baseline recorded")
        return []
    when = datetime.fromtimestamp(baseline.at, UTC).isoformat(timespec="seconds")
    figures["baseline_at"] = Figure(when)
    if own:
        figures["own_faults_since_baseline"] = Figure(len(own))
    if reading.restarts is not None and baseline.restarts is not None:
        same = reading.counter_epoch == baseline.epoch and reading.restarts >= baseline.restarts
        rose = reading.restarts - baseline.restarts if same else reading.restarts
        figures["restarts_since_baseline"] = Figure(rose, target=_allowed(own))
        if rose and rose > len(own):
            return [f"restarted {rose} time(s) since {when} (baseline: {rule}){_beyond(own)}"]
        if rose:
            notes.append(_explained(f"restarted {rose} time(s) since {when}", own))
        elif reading.identity != baseline.identity:
            notes.append(
                f"started anew since {when} without its restart counter rising (by hand or a "
                "redeploy): not counted"
            )
        return []
    started_anew = reading.identity != baseline.identity
    figures["restarts_since_baseline"] = Figure(int(started_anew), target=_allowed(own))
    if started_anew and not own:
        return [
            f"started anew since {when} (baseline: {rule}): was {baseline.identity}, "
            f"now {reading.identity}"
        ]
    if started_anew:
        notes.append(_explained(f"started anew since {when}", own))
    return []


def _allowed(own: OwnFaults) -> str:
    return f"<= {len(own)} (opsproof's own faults)" if own else "= 0"


def _explained(what: str, own: OwnFaults) -> str:
    return f"{what}, by opsproof's own fault(s) on it: {own.named()}; not counted as a crash"


def _beyond(own: OwnFaults) -> str:
    if not own:
        return ""
    return f", more than the {len(own)} opsproof's own fault(s) on it explain: {own.named()}"


def _oom(reading: HealthReading, figures: dict[str, Figure]) -> list[str]:
    if reading.oom_kills is None:
        return []
    figures["oom_kills"] = Figure(reading.oom_kills, target="= 0")
    if reading.oom_kills:
        return [f"{reading.oom_kills} OOM kill(s) in {reading.oom_scope} since it started"]
    return []


def _memory(reading: HealthReading, policy: HealthPolicy, figures: dict[str, Figure]) -> list[str]:
    if reading.memory_bytes is None:
        return []
    budget = policy.memory_bytes
    target = None if budget is None else f"<= {_size(budget)}"
    figures["memory"] = Figure(round(reading.memory_bytes / MIB, 2), "MiB", target)
    if budget is not None and reading.memory_bytes > budget:
        return [f"memory {_size(reading.memory_bytes)} over its budget of {_size(budget)}"]
    return []


def _size(size: int) -> str:
    return ByteSize(size).human_readable(separator=" ")


def _cpu(reading: HealthReading, policy: HealthPolicy, figures: dict[str, Figure]) -> list[str]:
    if reading.cpu_cores is None or policy.cpu_cores is None:
        return []
    percent, budget = reading.cpu_cores * 100, policy.cpu_cores * 100
    figures["cpu"] = Figure(round(percent, 1), "% of a core", f"<= {budget:g}")
    if reading.cpu_cores > policy.cpu_cores:
        return [
            f"CPU {percent:.0f}% of a core (sampled {policy.cpu_window or 0:g} s), over its "
            f"budget of {budget:g}%"
        ]
    return []


def _open_files(
    reading: HealthReading, policy: HealthPolicy, figures: dict[str, Figure]
) -> list[str]:
    files = reading.open_files
    if files is None:
        return []
    figures["open_files"] = Figure(files.count)
    figures["open_files_limit"] = Figure(files.limit)
    if not files.limit:
        return []
    figures["open_files_share"] = Figure(
        round(files.share * 100, 1), "%", f"<= {policy.open_files * 100:g}"
    )
    if files.share > policy.open_files:
        return [
            f"PID {files.pid} has {files.count} files open of its limit {files.limit} "
            f"({files.share:.0%}, at most {policy.open_files:.0%} allowed)"
        ]
    return []


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"
