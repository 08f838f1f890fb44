"""Alerting rules and scrape jobs as data: read from a team's files, or from a live Prometheus."""

from dataclasses import dataclass
from pathlib import Path

import yaml

from opsproof.config.durations import parse_duration
from opsproof.config.models import MonitoringConfig
from opsproof.probes.monitoring_api import dicts, get_json, labels_of


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    for_s: float
    labels: dict[str, str]
    source: str
    """Where it is defined: ``rules.yml (group g)`` or ``http://prometheus (group g)``."""


def expand(patterns: list[str], base: Path | None = None) -> list[Path]:
    """Files matching the globs (relative ones under ``base``), sorted, each once."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        full = (base or Path()) / pattern
        anchor = Path(full.anchor or ".")
        found.update(dict.fromkeys(sorted(anchor.glob(str(full.relative_to(anchor))))))
    return list(found)


def _yaml(path: Path) -> dict[str, object]:
    """A YAML mapping, or empty when the file is unreadable or malformed (its own check says
    why: a coverage verdict from half a file would mislead)."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return document if isinstance(document, dict) else {}


def rule_file_patterns(config_file: Path) -> list[str]:
    """The ``rule_files`` globs of a prometheus.yml, made absolute as Prometheus resolves them
    (relative to the file's directory)."""
    patterns = _yaml(config_file).get("rule_files")
    names = [str(p) for p in patterns] if isinstance(patterns, list) else []
    return [str(config_file.parent / name) for name in names]


def scrape_jobs(config_file: Path) -> set[str]:
    """The job names a prometheus.yml scrapes."""
    return {str(job["job_name"]) for job in dicts(_yaml(config_file).get("scrape_configs"))}


def rules_in_files(paths: list[Path]) -> list[AlertRule]:
    """The alerting rules (not recording rules) of the given rule files."""
    rules = []
    for path in paths:
        for group in dicts(_yaml(path).get("groups")):
            for rule in dicts(group.get("rules")):
                if "alert" not in rule:
                    continue
                rules.append(
                    AlertRule(
                        name=str(rule["alert"]),
                        expr=str(rule.get("expr", "")),
                        for_s=parse_duration(str(rule.get("for", "0s"))),
                        labels=labels_of(rule),
                        source=f"{path} (group {group.get('name')})",
                    )
                )
    return rules


def rules_from_prometheus(url: str, timeout: float) -> list[AlertRule]:
    """The alerting rules a running Prometheus has loaded. Raises ApiError."""
    data = get_json(url, "/api/v1/rules?type=alert", timeout)
    groups = dicts(data.get("groups")) if isinstance(data, dict) else []
    return [
        AlertRule(
            name=str(rule.get("name")),
            expr=str(rule.get("query", "")),
            for_s=float(str(rule.get("duration", 0))),
            labels=labels_of(rule),
            source=f"{url} (group {group.get('name')})",
        )
        for group in groups
        for rule in dicts(group.get("rules"))
    ]


def rule_files(monitoring: MonitoringConfig) -> list[str]:
    """The rule-file globs to check: declared ones, else those of the Prometheus config."""
    if monitoring.rule_files:
        return monitoring.rule_files
    if monitoring.config_file is not None:
        return rule_file_patterns(monitoring.config_file.absolute())
    return []
