"""The guest's app script, run here with this machine's perl (the guest's is the same Debian
perl-base): healthy only while Redis answers PING, and a dependency that refuses or does not
answer is named in a 503 within its timeout, never a hang."""

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from opsproof.support.ports import LOOPBACK, free_ports
from opsproof.support.waiting import poll_until
from opsproof.testhost.guest_app import REDIS_TIMEOUT, SCRIPT


@contextmanager
def _running(argv: list[str], ready: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert poll_until(lambda: _listening(ready), 10), f"{argv[0]} did not listen on {ready}"
        yield process
    finally:
        process.kill()
        process.wait(10)


def _listening(port: int) -> bool:
    try:
        socket.create_connection((LOOPBACK, port), timeout=1).close()
        return True
    except OSError:
        return False


@contextmanager
def _app(tmp_path: Path, redis_port: int) -> Iterator[str]:
    script = tmp_path / "app.pl"
    script.write_text(SCRIPT)
    [port] = free_ports(1)
    argv = ["perl", str(script), f"{LOOPBACK}:{port}", f"{LOOPBACK}:{redis_port}"]
    argv.append(f"{REDIS_TIMEOUT:g}")
    with _running(argv, port):
        yield f"http://{LOOPBACK}:{port}"


def test_health_is_200_while_redis_answers_ping_and_503_naming_it_once_it_is_gone(
    tmp_path: Path,
) -> None:
    [redis_port] = free_ports(1)
    redis = ["redis-server", "--port", str(redis_port), "--bind", LOOPBACK, "--save", ""]
    with _app(tmp_path, redis_port) as url:
        with _running(redis, redis_port):
            healthy = httpx.get(f"{url}/health", timeout=5)
        refused = httpx.get(f"{url}/health", timeout=5)
        missing = httpx.get(f"{url}/nothing", timeout=5)

    assert (healthy.status_code, healthy.json()["failed"]) == (200, [])
    assert (refused.status_code, refused.json()["failed"]) == (503, ["redis"])
    assert f"redis at {LOOPBACK}:{redis_port}: cannot connect" in refused.json()["reason"]
    assert missing.status_code == 404


def test_a_redis_that_accepts_but_never_answers_is_a_503_within_the_timeout(
    tmp_path: Path,
) -> None:
    with socket.socket() as silent:  # accepts (the kernel's backlog), never answers
        silent.bind((LOOPBACK, 0))
        silent.listen(4)
        with _app(tmp_path, silent.getsockname()[1]) as url:
            began = time.monotonic()
            answer = httpx.get(f"{url}/health", timeout=5)
            took = time.monotonic() - began

    assert (answer.status_code, answer.json()["failed"]) == (503, ["redis"])
    assert "no answer within 0.5 s" in answer.json()["reason"]
    assert REDIS_TIMEOUT <= took < REDIS_TIMEOUT + 1.5
