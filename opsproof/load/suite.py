"""What the ``load/`` pytest suite needs from the engine: permission, the target service, one
run per session, its artifacts in the run directory, and figures for the evidence."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from opsproof.config.loader import LoadedEnvironment
from opsproof.config.models import Environment, HttpService
from opsproof.errors import ConfigError, SafetyError
from opsproof.evidence.records import LoadRecord
from opsproof.load.baseline import (
    SUMMARY_FILE,
    Shape,
    StoredRun,
    baseline_record,
    baseline_series,
    stored_run,
)
from opsproof.load.chart import render, series
from opsproof.load.health import Health, assess
from opsproof.load.name_rows import name_rows
from opsproof.load.profile import Profile
from opsproof.load.result import LoadResult
from opsproof.load.runner import RunSettings, run_profile
from opsproof.load.script import ScriptSources
from opsproof.load.target import LoadTarget
from opsproof.probes.result import Figure

CHART_FILE = "load-chart.svg"


@dataclass(frozen=True)
class LoadRun:
    profile: Profile
    result: LoadResult
    health: Health
    artifacts: tuple[Path, ...]


def require_load_allowed(loaded: LoadedEnvironment) -> None:
    """Refuse before any traffic unless the environment opted in."""
    if loaded.environment.load != "allowed":
        raise SafetyError(
            f"environment {loaded.name!r} does not allow load; load runs send real traffic, so "
            f"an environment opts in with 'load: allowed' in {loaded.source}"
        )


def service_for(loaded: LoadedEnvironment, service: str | None) -> str:
    """The http service to load: ``service``, else ``api``, else the only one declared."""
    services = loaded.environment.services_of(HttpService)
    if service is None and len(services) == 1:
        service = next(iter(services))
    name = service or "api"
    if name not in services:
        known = ", ".join(services) or "none"
        raise ConfigError(
            f"environment {loaded.name!r} has no http service {name!r} to load; choose one "
            f"with --load-service (http services: {known})"
        )
    return name


def target_for(loaded: LoadedEnvironment, service: str | None) -> LoadTarget:
    """The http service to load (``service_for``) as the plan carries it."""
    return target_of(loaded.environment.services_of(HttpService)[service_for(loaded, service)])


def target_of(service: HttpService) -> LoadTarget:
    """What the load generators need of an http service: its URL, CA, headers, timeout."""
    ca_pem = service.ca_file.read_text() if service.ca_file else None
    return LoadTarget(
        host=service.url, ca_pem=ca_pem, headers=service.headers, timeout=service.timeout
    )


def sources_for(loaded: LoadedEnvironment, service: str | None) -> ScriptSources:
    """What config-only scenarios may name: the environment's http services and flows."""
    return script_sources(loaded.environment, loaded.source.parent, service_for(loaded, service))


def script_sources(environment: Environment, flows_dir: Path, run_service: str) -> ScriptSources:
    """The environment's http services and flows, lent to a run whose own service is
    ``run_service`` (the load suite's and a chaos experiment's background load alike)."""
    return ScriptSources(
        services={
            name: target_of(http) for name, http in environment.services_of(HttpService).items()
        },
        flows={flow.name: flow for flow in environment.flows},
        flows_dir=flows_dir,
        run_service=run_service,
    )


def execute(
    profile: Profile,
    target: LoadTarget,
    settings: RunSettings,
    sources: ScriptSources | None = None,
) -> LoadRun:
    """Run the profile and leave its chart and summary in ``settings.out_dir``."""
    result = run_profile(profile, target, settings, sources)
    chart = settings.out_dir / CHART_FILE
    chart.write_text(render(result.timeline, profile))
    summary = settings.out_dir / SUMMARY_FILE
    summary.write_text(json.dumps(_summary(profile, result, shape_of(profile, target)), indent=2))
    return LoadRun(profile, result, assess(result), (chart, summary))


def shape_of(profile: Profile, target: LoadTarget) -> Shape:
    """What a baseline of this run must share with it."""
    return Shape(profile.name, profile.shape, profile.time_scale, target.host)


def load_record(run: LoadRun, baseline: StoredRun | None = None) -> LoadRecord:
    """The run for the report: its chart's series and its requests by name; with a baseline,
    the comparison and the baseline's p95 drawn over this run's latency."""
    result = run.result
    overlay, compared = [], None
    if baseline is not None:
        overlay = baseline_series(baseline)
        compared = baseline_record(baseline, current_run(run), run.profile.regression)
    return LoadRecord(
        profile=run.profile.name,
        time_scale=run.profile.time_scale,
        duration_s=max(0.0, round(result.duration_s, 3)),
        series=series(result.timeline, run.profile) + overlay,
        names=name_rows(result.breakdown),
        errors=result.errors,
        baseline=compared,
    )


def current_run(run: LoadRun) -> StoredRun:
    """This run as a baseline reads it, so both sides of a comparison are read alike."""
    summary = next(path for path in run.artifacts if path.name == SUMMARY_FILE)
    return stored_run(json.loads(summary.read_bytes()), "this run")


def run_figures(run: LoadRun) -> dict[str, Figure]:
    """The run's headline numbers for the evidence."""
    metrics, result = run.result.metrics, run.result
    figures = {
        "duration": Figure(round(result.duration_s, 3), "s"),
        "time_scale": Figure(run.profile.time_scale),
        "http_reqs": Figure(int(metrics.counters.get("http_reqs", [0, 0])[0])),
        "iterations": Figure(int(metrics.counters.get("iterations", [0, 0])[0])),
        "dropped_iterations": Figure(int(metrics.counters.get("dropped_iterations", [0, 0])[0])),
        "vus_max": Figure(int(metrics.gauges.get("vus_max", [0, 0])[0])),
        "generator_cpu_max": Figure(
            max((w.cpu.peak for s in result.scenarios for w in s.workers), default=0.0), "%"
        ),
        "chart": Figure(CHART_FILE),
    }
    failed, total = metrics.rates.get("http_req_failed", [0, 0])
    if total:
        figures["http_req_failed"] = Figure(round(failed / total, 6))
    trends = (
        ("http_req_duration", ""),
        ("http_req_duration_corrected", "_corrected"),
        ("http_req_waiting", "_waiting"),
    )
    for key, label in trends:
        trend = metrics.trends.get(key)
        if trend and trend.count:
            for percent in (50, 95, 99):
                figures[f"p{percent}{label}"] = Figure(trend.percentile_ms(percent), "ms")
    return figures


def _summary(profile: Profile, result: LoadResult, shape: Shape) -> dict[str, object]:
    """Everything needed to re-judge the run later or compare a run with it, HDR histograms
    included: the whole run's, each second's, each name's (compressed, as HDR encodes them)."""
    return {
        "profile": profile.name,
        "shape": shape.to_wire(),
        "time_scale": profile.time_scale,
        "thresholds": [t.id for t in profile.thresholds],
        "duration_s": result.duration_s,
        "errors": result.errors,
        "aborted": result.aborted,
        "metrics": result.metrics.to_wire(),
        "timeline": [second.model_dump() for second in result.timeline],
        "breakdown": [asdict(row) for row in name_rows(result.breakdown)],
        "names": result.breakdown.to_wire(),
        "scenarios": [
            s.model_dump(
                include={"scenario", "executor", "user_class", "workers", "aborted", "error"}
            )
            for s in result.scenarios
        ],
    }
