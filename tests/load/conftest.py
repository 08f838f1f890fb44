"""Fixtures for the load tests: a server with a known latency (its own process on loopback),
and a runner writing into a temporary directory."""

import select
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from opsproof.load.plan import LoadTarget
from opsproof.load.profile import profile_from_dict
from opsproof.load.progress import Progress
from opsproof.load.result import LoadResult
from opsproof.load.runner import RunSettings, run_profile

HERE = Path(__file__).parent
Run = Callable[..., LoadResult]
STARTUP_TIMEOUT = 10.0


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """``tests/load/latency_server.py`` in a subprocess; it exits when its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, str(HERE / "latency_server.py")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None and process.stdin is not None
    ready, _, _ = select.select([process.stdout], [], [], STARTUP_TIMEOUT)
    url = process.stdout.readline().strip() if ready else ""  # printed once listening
    if not url.startswith("http://127.0.0.1:"):
        process.kill()
        pytest.fail(f"the latency server did not start: {url!r}")
    yield url
    process.stdin.close()
    process.wait(timeout=10)


@pytest.fixture
def progress() -> list[Progress]:
    return []


@pytest.fixture
def run(server_url: str, tmp_path: Path, progress: list[Progress]) -> Run:
    """``run(options, time_scale=1, **settings)``: run a k6 options dict with two workers."""

    def go(options: dict[str, object], time_scale: float = 1.0, **settings: object) -> LoadResult:
        profile = profile_from_dict(options, "test").scaled(time_scale)
        run_settings = RunSettings(
            locustfile=HERE / "locustfile.py",
            out_dir=tmp_path / "run",
            progress=progress.append,
            **settings,  # type: ignore[arg-type]
        )
        return run_profile(profile, LoadTarget(host=server_url, timeout=5.0), run_settings)

    return go
