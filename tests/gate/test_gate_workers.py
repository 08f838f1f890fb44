"""The reference worker in the gate (kind: process and queue bounds), end to end: with the
worker stopped its items fail naming why, and jobs accepted meanwhile pile up into a backlog the
queue check catches; with the worker back they pass."""

from pathlib import Path

import pytest
import yaml

from opsproof.paths import SHIPPED_CONFIG

pytestmark = pytest.mark.stack


def _with_no_backlog_allowed(tmp_path: Path) -> Path:
    document = yaml.safe_load(SHIPPED_CONFIG.read_text())
    redis = document["environments"]["reference"]["services"]["redis"]
    redis["queues"] = [{"key": "jobs:queue", "type": "list", "max": 0}]
    path = tmp_path / "opsproof.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_a_stopped_worker_fails_its_items_and_its_backlog_fails_the_queue_check(
    gate, component_down, tmp_path: Path
) -> None:
    config = _with_no_backlog_allowed(tmp_path)
    with component_down("worker"):
        down = gate("-k", "process or job", config=config)
        backlog = gate("-k", "queue", config=config)
    alive = down.check("test_process_alive[worker]")
    assert alive["verdict"] == "failed"
    assert alive["reason"].endswith("process://worker: no process found")
    health = down.check("test_process_health[worker]")
    assert health["verdict"] == "failed"
    assert (
        "exited 0 in" in health["reason"] and "but its output lacks '\"pid\"'" in health["reason"]
    )
    assert down.check("job is accepted and queued")["verdict"] == "passed"  # one job queued
    queue = backlog.check("test_redis_queue[redis jobs:queue]")
    assert queue["verdict"] == "failed"
    assert "jobs:queue: list of length 1, above its max of 0: a backlog" in queue["reason"]
    assert "Traceback" not in down.output + backlog.output

    back = gate("-k", "process", config=config)
    assert back.returncode == 0, back.output
