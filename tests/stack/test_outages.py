"""Dependencies down or frozen: the service says so within a second, naming the culprit, and
heals by itself when they come back (no restart of the API or the worker)."""

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
import redis

from opsproof.runtimes.launched import StackState
from opsproof.stack.launcher import stack_status
from opsproof.support.processes import running_processes

pytestmark = pytest.mark.stack

DEPENDENCIES = ["redis", "postgres"]
JOB = {"dsl": "rect 1 1 4 4 #336699"}


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


@contextmanager
def paused(state_dir: Path, name: str) -> Iterator[None]:
    """Freeze every process of a component (SIGSTOP), as a hung host would."""
    state = StackState.load(state_dir)
    assert state is not None
    processes = running_processes([state.components[name]])[name]
    for proc in processes:
        proc.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for proc in processes:
            proc.send_signal(signal.SIGCONT)


def pids(state_dir: Path) -> dict[str, int]:
    status = stack_status(state_dir)
    assert status is not None
    return {c.name: c.pid for c in status.components}


@pytest.mark.parametrize("name", DEPENDENCIES)
def test_stopped_dependency_is_named_fast_and_the_service_heals(
    name: str, api: httpx.Client, component_down, reference_stack_dir: Path, eventually
) -> None:
    service = {n: p for n, p in pids(reference_stack_dir).items() if n in ("api", "worker")}
    with component_down(name):
        deep, elapsed = timed(lambda: api.get("/health/deep"))
        assert deep.status_code == 503
        assert elapsed < 1.0
        assert deep.json()["failed"] == [name]
        assert deep.json()["dependencies"][name]["ok"] is False

        job, elapsed = timed(lambda: api.post("/api/jobs", json=JOB))
        assert job.status_code == 503
        assert elapsed < 1.0
        assert job.json()["error"] == "dependency_unavailable"
        assert job.json()["dependency"] == name
        assert job.json()["detail"]
    # component_down waited for deep health 200; the service was never restarted
    assert {n: p for n, p in pids(reference_stack_dir).items() if n in service} == service
    accepted = api.post("/api/jobs", json=JOB)
    assert accepted.status_code == 202
    job_id = accepted.json()["id"]
    eventually(
        lambda: api.get(f"/api/jobs/{job_id}").json()["status"] == "done",
        15.0,
        f"worker completes a job after {name} came back",
    )


@pytest.mark.parametrize("name", DEPENDENCIES)
def test_paused_dependency_is_named_within_a_second(
    name: str, api: httpx.Client, reference_stack_dir: Path, eventually
) -> None:
    with paused(reference_stack_dir, name):
        deep, elapsed = timed(lambda: api.get("/health/deep"))
        assert deep.status_code == 503
        assert elapsed < 1.0
        assert deep.json()["failed"] == [name]
        job, elapsed = timed(lambda: api.post("/api/jobs", json=JOB))
        assert (job.status_code, job.json()["dependency"]) == (503, name)
        assert elapsed < 1.0
    eventually(
        lambda: api.get("/health/deep").status_code == 200, 10.0, f"healthy after {name} resumed"
    )


def test_render_works_without_redis(api: httpx.Client, component_down) -> None:
    with component_down("redis"):
        response = api.post("/api/render", json={"dsl": "circle 5 5 4 #aa0000"})
        assert response.status_code == 200
        assert response.headers["x-cache"] == "miss"
        assert response.content.startswith(b"\x89PNG")


def _running(pid: int) -> bool:
    """Alive and not a zombie: a stopped component may wait for its parent to reap it."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("name", ["redis", "postgres", "api", "worker", "nginx"])
def test_every_component_can_be_stopped_and_started_again(
    name: str, component_down, reference_stack_dir: Path
) -> None:
    before = pids(reference_stack_dir)[name]
    with component_down(name):
        status = stack_status(reference_stack_dir)
        assert status is not None
        assert not next(c for c in status.components if c.name == name).alive
        assert not _running(before)
    status = stack_status(reference_stack_dir)
    assert status is not None and status.running
    assert pids(reference_stack_dir)[name] != before


def test_jobs_whose_queue_entry_was_lost_are_still_completed(
    api: httpx.Client, component_down, eventually
) -> None:
    with component_down("worker"):
        job_id = api.post("/api/jobs", json=JOB).json()["id"]
        with component_down("redis"):
            pass  # Redis restarts empty: the queued id is gone, the row in PostgreSQL is not
    eventually(
        lambda: api.get(f"/api/jobs/{job_id}").json()["status"] == "done",
        15.0,
        "the worker's sweep completes a job that is only in PostgreSQL",
    )


def test_an_upload_left_processing_by_a_redis_snapshot_is_finished(
    api: httpx.Client, reference_stack: StackState, component_down, eventually
) -> None:
    """Redis comes back from a snapshot taken mid-render, after the worker's write of the result
    failed: the upload says ``processing`` and is in no queue; the worker must queue it again."""
    drawing = {"file": ("drawing.txt", b"rect 1 1 4 4 #336699", "text/plain")}
    upload = api.post("/api/uploads", files=drawing, data={"delay": "2"}).json()["id"]
    status = f"/api/uploads/{upload}"
    eventually(lambda: api.get(status).json()["status"] == "processing", 5.0, "the worker took it")
    client = redis.Redis.from_url(reference_stack.components["redis"].url, socket_timeout=5)
    snapshot = Path(client.config_get("dir")["dir"]) / client.config_get("dbfilename")["dbfilename"]
    earlier = snapshot.read_bytes() if snapshot.exists() else None
    try:
        client.save()
        with component_down("redis"):
            time.sleep(2.5)  # the render's delay ends while Redis is away: its result is lost
        eventually(
            lambda: api.get(status).json()["status"] == "done",
            20.0,
            "the worker queues a lost upload again and finishes it",
        )
    finally:
        client.close()
        if earlier is None:
            snapshot.unlink(missing_ok=True)
        else:
            snapshot.write_bytes(earlier)


@pytest.mark.parametrize(
    ("name", "farewell"), [("api", "Finished server process"), ("worker", "stopped")]
)
def test_service_processes_exit_gracefully_on_sigterm(
    name: str, farewell: str, component_down, reference_stack_dir: Path
) -> None:
    state = StackState.load(reference_stack_dir)
    assert state is not None
    component = state.components[name]
    log = Path(component.log_file)
    offset = log.stat().st_size
    started = time.monotonic()
    with component_down(name):
        assert time.monotonic() - started < 3.0  # well inside the grace period: no SIGKILL
        with log.open() as handle:
            handle.seek(offset)
            assert farewell in handle.read()
