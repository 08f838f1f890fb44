"""The reference stack's monitoring: Prometheus, Alertmanager and the Redis, PostgreSQL and node
exporters (Debian's packages), every listener on 127.0.0.1, scraping and evaluating every second.

They are recorded in a file of their own beside the stack's (``monitoring.json``), so the core
stack's contract (its components, ``stack status``, restarts) is unchanged; their URLs and files
join the stack's ``${stack.*}`` values.
"""

import json
import os
import signal
import string
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from opsproof.errors import StackError
from opsproof.stack.components import HOST, Layout, service_dir
from opsproof.stack.monitoring_ready import CHECKS
from opsproof.support.ports import free_ports
from opsproof.support.processes import ComponentState, is_alive, log_tail, spawn, terminate
from opsproof.support.programs import find_program
from opsproof.support.waiting import POLL_INTERVAL

MONITORING_FILE = "monitoring.json"
EARLY = ("redis-exporter", "node-exporter", "alertmanager", "prometheus")
AFTER_POSTGRES = ("postgres-exporter",)
"""Started once PostgreSQL has its role and database, so ``pg_up`` is never 0 during a start."""
WEBHOOK_PATH = "/alerts"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Monitoring:
    """The declared monitoring components (pid 0 until started) and their ``${stack.*}`` values."""

    components: dict[str, ComponentState]
    values: dict[str, str]


def _fixtures() -> Path:
    return service_dir() / "monitoring"


def _render(template: str, target: Path, **fields: str) -> Path:
    text = string.Template((_fixtures() / template).read_text()).substitute(fields)
    target.write_text(text)
    return target


def declare_monitoring(layout: Layout, values: dict[str, str]) -> Monitoring:
    """Write Prometheus's and Alertmanager's configs for the stack described by ``values``
    and declare the five programs; nothing is started."""
    base = layout.root / "monitoring"
    base.mkdir()
    prometheus, alertmanager, webhook, redis_x, postgres_x, node_x = free_ports(6)
    address = {
        "prometheus": f"{HOST}:{prometheus}",
        "alertmanager": f"{HOST}:{alertmanager}",
        "redis-exporter": f"{HOST}:{redis_x}",
        "postgres-exporter": f"{HOST}:{postgres_x}",
        "node-exporter": f"{HOST}:{node_x}",
    }
    webhook_url = f"http://{HOST}:{webhook}{WEBHOOK_PATH}"
    rules = str(_fixtures() / "rules" / "*.yml")
    prometheus_yml = _render(
        "prometheus.template.yml",
        base / "prometheus.yml",
        rules=rules,
        prometheus=address["prometheus"],
        alertmanager=address["alertmanager"],
        api=f"{HOST}:{values['api.port']}",
        redis_exporter=address["redis-exporter"],
        postgres_exporter=address["postgres-exporter"],
        node_exporter=address["node-exporter"],
    )
    alertmanager_yml = _render(
        "alertmanager.template.yml", base / "alertmanager.yml", webhook_url=webhook_url
    )
    dsn = values["postgres.dsn"] + "?sslmode=disable"
    commands = {
        "redis-exporter": [
            find_program("prometheus-redis-exporter", package="prometheus-redis-exporter"),
            *("-redis.addr", values["redis.url"], "-web.listen-address", address["redis-exporter"]),
        ],
        "node-exporter": [
            find_program("prometheus-node-exporter", package="prometheus-node-exporter"),
            f"--web.listen-address={address['node-exporter']}",
            *("--collector.disable-defaults", "--collector.meminfo", "--collector.loadavg"),
            "--collector.cpu",
        ],
        "alertmanager": [
            find_program("prometheus-alertmanager", package="prometheus-alertmanager"),
            f"--config.file={alertmanager_yml}",
            f"--storage.path={base / 'alertmanager-data'}",
            f"--web.listen-address={address['alertmanager']}",
            "--cluster.listen-address=",  # no gossip listener on 0.0.0.0:9094
        ],
        "prometheus": [
            find_program("prometheus", package="prometheus"),
            f"--config.file={prometheus_yml}",
            f"--storage.tsdb.path={base / 'prometheus-data'}",
            "--storage.tsdb.retention.time=1d",
            f"--web.listen-address={address['prometheus']}",
        ],
        "postgres-exporter": [
            find_program("prometheus-postgres-exporter", package="prometheus-postgres-exporter"),
            f"--web.listen-address={address['postgres-exporter']}",
            "--disable-settings-metrics",
        ],
    }
    components = {
        name: ComponentState(
            name=name,
            pid=0,
            command=command,
            env={"DATA_SOURCE_NAME": dsn} if name == "postgres-exporter" else {},
            log_file=str(layout.log(name)),
            port=int(address[name].rpartition(":")[2]),
            url=f"http://{address[name]}",
        )
        for name, command in commands.items()
    }
    return Monitoring(
        components,
        {
            "prometheus.url": f"http://{address['prometheus']}",
            "prometheus.port": str(prometheus),
            "prometheus.config_file": str(prometheus_yml),
            "alertmanager.url": f"http://{address['alertmanager']}",
            "alertmanager.port": str(alertmanager),
            "alertmanager.config_file": str(alertmanager_yml),
            "alertmanager.webhook_port": str(webhook),
            "alertmanager.webhook_url": webhook_url,
            "monitoring.rules": rules,
            "monitoring.rule_tests": str(_fixtures() / "tests" / "*.yml"),
        },
    )


def _save(state_dir: Path, components: list[ComponentState]) -> None:
    """Record the started components at once (0600: the exporter's DSN holds a password)."""
    path = state_dir / MONITORING_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump([asdict(c) for c in components], out, indent=2)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)


def recorded(state_dir: Path) -> list[ComponentState]:
    """The monitoring components started from ``state_dir``; empty when none were."""
    try:
        raw = json.loads((state_dir / MONITORING_FILE).read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise StackError(f"{state_dir / MONITORING_FILE}: unreadable ({exc}); remove it") from exc
    return [ComponentState(**c) for c in raw]


def launch(state_dir: Path, monitoring: Monitoring, names: tuple[str, ...], say: Progress) -> None:
    """Start the named components, each recorded as soon as it runs."""
    started = recorded(state_dir)
    for name in names:
        component = monitoring.components[name]
        say(f"starting {name} on {component.url}")
        spawn(component)
        started.append(component)
        _save(state_dir, started)


def wait_monitoring_ready(monitoring: Monitoring, deadline: float) -> None:
    """Poll until every component answers (Prometheus: every scrape target up); raise
    StackError naming the one that exited or was not ready in time, with its log's tail."""
    pending = dict(monitoring.components)
    problems = dict.fromkeys(pending, "not checked yet")
    while pending:
        for name, component in list(pending.items()):
            if not is_alive(component):
                raise _with_log(component, "exited while starting")
            problem = CHECKS[name](component)
            if problem is None:
                del pending[name]
            else:
                problems[name] = problem
        if pending and time.monotonic() >= deadline:
            name, component = next(iter(pending.items()))
            raise _with_log(component, f"not ready in time: {problems[name]}")
        if pending:
            time.sleep(POLL_INTERVAL)


def _with_log(component: ComponentState, message: str) -> StackError:
    return StackError(
        f"{component.name}: {message}\n--- last lines of {component.log_file} ---\n"
        f"{log_tail(component.log_file)}"
    )


def monitoring_running(state_dir: Path) -> bool:
    """All five components are recorded and alive."""
    started = recorded(state_dir)
    names = {c.name for c in started}
    return names == {*EARLY, *AFTER_POSTGRES} and all(is_alive(c) for c in started)


def stop_monitoring(state_dir: Path, timeout: float) -> None:
    """Stop every recorded monitoring component and forget them."""
    terminate(recorded(state_dir), lambda _: signal.SIGTERM, timeout)
    (state_dir / MONITORING_FILE).unlink(missing_ok=True)
