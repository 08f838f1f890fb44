"""The reference stack as containers: ``opsproof stack up --runtime docker``.

It writes the same state file as the process stack (``stack.json``: components, interpolation
values, secrets), so ``${stack.api.url}`` and every suite work unchanged, plus values a docker
environment needs (``redis.container``, ``redis.volume``, ...). Containers and volumes carry a
label naming the state directory: ``down`` finds them by it, even after a crash of ``up``.
"""

import datetime as dt
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container
from docker.models.volumes import Volume

from opsproof.errors import StackError
from opsproof.runtimes.docker_engine import connect
from opsproof.runtimes.launched import STATE_FILE, StackState
from opsproof.stack.certs import DEFAULT_DAYS, TlsFiles, write_tls_material
from opsproof.stack.components import (
    START_ORDER,
    Layout,
    Ports,
    service_dir,
    values,
    write_nginx_conf,
)
from opsproof.stack.docker import containers
from opsproof.stack.docker.images import Images, ensure_images
from opsproof.stack.docker.readiness import wait_ready
from opsproof.stack.docker.rootfs import NOBODY, POSTGRES_UID
from opsproof.stack.lock import state_lock
from opsproof.stack.postgres import bootstrap
from opsproof.stack.readiness import wait_healthy
from opsproof.stack.status import ComponentStatus, StackStatus
from opsproof.support.ports import free_ports
from opsproof.support.processes import ComponentState
from opsproof.support.waiting import time_left

Progress = Callable[[str], None]
RUNTIME = "docker"
DEFAULT_PROJECT = "opsproof"
ROOT_PREFIX = "opsproof-docker-"
STATE_LABEL = "opsproof.state_dir"
STOP_TIMEOUT = 10


def _quiet(message: str) -> None:
    """Progress sink when the caller passes none."""


def is_docker_state(state: StackState | None) -> bool:
    return state is not None and state.values.get("runtime") == RUNTIME


def recorded_runtime(state_dir: Path) -> str:
    """``docker`` when the stack recorded in ``state_dir`` runs as containers, else
    ``process`` (also when none is recorded)."""
    return RUNTIME if is_docker_state(StackState.load(state_dir)) else "process"


def _labels(state_dir: Path, project: str) -> dict[str, str]:
    return {STATE_LABEL: str(state_dir.absolute()), "opsproof.stack": project}


def _ours(client: docker.DockerClient, state_dir: Path) -> list[Container]:
    selector = f"{STATE_LABEL}={state_dir.absolute()}"
    found: list[Container] = client.containers.list(all=True, filters={"label": selector})
    return found


def _remove_containers(client: docker.DockerClient, state_dir: Path, timeout: int) -> list[str]:
    """Stop (graceful, then SIGKILL after ``timeout``) and remove every container of the
    stack; the components that were running."""
    running = []
    for container in _ours(client, state_dir):
        if container.status in ("running", "paused", "restarting"):
            running.append(container.labels.get("opsproof.component", container.name))
        try:
            if container.status == "paused":
                container.unpause()  # a paused container cannot act on its stop signal
            container.stop(timeout=timeout)
            container.remove(force=True)
        except NotFound:
            continue
    return running


def _volumes(client: docker.DockerClient, state_dir: Path) -> list[Volume]:
    selector = f"{STATE_LABEL}={state_dir.absolute()}"
    found: list[Volume] = client.volumes.list(filters={"label": selector})
    return found


def _remove_volumes(client: docker.DockerClient, state_dir: Path) -> None:
    for volume in _volumes(client, state_dir):
        try:
            volume.remove(force=True)
        except NotFound:
            continue


def _teardown(
    client: docker.DockerClient, state_dir: Path, state: StackState | None, keep_volumes: bool
) -> list[str]:
    stopped = _remove_containers(client, state_dir, STOP_TIMEOUT)
    if not keep_volumes:
        _remove_volumes(client, state_dir)
    if state is not None and Path(state.root).name.startswith(ROOT_PREFIX):
        shutil.rmtree(state.root, ignore_errors=True)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return stopped


def _prepare_layout(layout: Layout, ports: Ports, tls_days: int) -> TlsFiles:
    """TLS material, nginx config and the directories bind-mounted into the containers,
    owned by the users the containers run as."""
    for directory in (layout.logs, layout.postgres_run):
        directory.mkdir(parents=True)
    tls = write_tls_material(layout.tls, days=tls_days)
    write_nginx_conf(layout, ports, tls)
    owners = {layout.postgres_run: POSTGRES_UID, tls.key_file: NOBODY}
    owners |= {path: NOBODY for path in (layout.logs, layout.nginx, layout.nginx / "temp")}
    for path, uid in owners.items():
        os.chown(path, uid, uid)
    return tls


def _create(
    client: docker.DockerClient,
    spec: containers.ContainerSpec,
    project: str,
    image: str,
    labels: dict[str, str],
) -> Container:
    name = containers.container_name(project, spec.component)
    try:
        created: Container = client.containers.create(
            **containers.create_options(spec, project, image, labels)
        )
    except APIError as exc:
        if exc.status_code != 409:
            raise StackError(f"{name}: {exc.explanation}") from None
        owner = client.containers.get(name).labels.get(STATE_LABEL, "not opsproof's")
        raise StackError(
            f"container {name} already exists (state dir {owner}); remove it: "
            f"opsproof stack down --runtime docker --state-dir {owner}"
        ) from None
    return created


def _start(
    client: docker.DockerClient,
    state_dir: Path,
    project: str,
    timeout: float,
    say: Progress,
    tls_days: int,
) -> StackState:
    images = ensure_images(client, say)
    _say_images(images, say)
    began = time.monotonic()  # the timeout is for the containers; a cold build comes first
    root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX))
    root.chmod(0o711)  # traversable by the containers' users, not listable
    state_file = (state_dir / STATE_FILE).absolute()
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    state = StackState(root=str(root), started_at=started_at, components={}, values={})
    labels = _labels(state_dir, project)
    try:
        layout, ports = Layout(root), Ports(*free_ports(4))
        password = secrets.token_urlsafe(24)
        tls = _prepare_layout(layout, ports, tls_days)
        for component in containers.DATA_VOLUMES:
            client.volumes.create(containers.volume_name(project, component), labels=labels)
        state.values = _values(client, layout, ports, password, tls, state_file, project)
        state.values["image"] = images.service.image
        state.secrets = [password]
        state.save(state_dir)  # labels and the file: a crash from here on is cleaned up
        for spec in containers.specs(layout, ports, password):
            say(f"starting container {containers.container_name(project, spec.component)}")
            container = _create(client, spec, project, images.service.image, labels)
            container.start()
            state.components[spec.component] = _component(container, spec, ports)
        state.save(state_dir)
        say("creating the opsproof role and database, applying the schema")
        schema = service_dir() / "reference_service" / "schema.sql"
        deadline = began + timeout
        bootstrap(layout, ports.postgres, password, schema, deadline)
        say("waiting for every container to be ready")
        wait_ready(client, state, deadline)
        wait_healthy(state, time_left(deadline))
    except BaseException:
        _teardown(client, state_dir, state, keep_volumes=False)
        raise
    state.components = {name: state.components[name] for name in START_ORDER}
    _refresh_pids(client, state)
    state.save(state_dir)
    elapsed = time.monotonic() - began
    say(f"docker reference stack ready in {elapsed:.1f} s: {state.values['api.url']}")
    return state


def _say_images(images: Images, say: Progress) -> None:
    for built in (images.base, images.service):
        how = "cached" if built.cached else "built"
        say(f"image {built.image} {how} in {built.seconds:.1f} s")


def _values(
    client: docker.DockerClient,
    layout: Layout,
    ports: Ports,
    password: str,
    tls: TlsFiles,
    state_file: Path,
    project: str,
) -> dict[str, str]:
    """The process stack's values with data paths in the volumes, plus container names."""
    found = values(layout, ports, password, tls, state_file)
    found |= {"runtime": RUNTIME, "project": project}
    for component in START_ORDER:
        found[f"{component}.container"] = containers.container_name(project, component)
    for component in containers.DATA_VOLUMES:
        volume = client.volumes.get(containers.volume_name(project, component))
        found[f"{component}.volume"] = volume.name
        found[f"{component}.data_dir"] = volume.attrs["Mountpoint"]
    return found


def _component(
    container: Container, spec: containers.ContainerSpec, ports: Ports
) -> ComponentState:
    port = getattr(ports, spec.component, None)
    scheme = {"nginx": "https", "api": "http", "redis": "redis", "postgres": "postgresql"}
    url = f"{scheme[spec.component]}://127.0.0.1:{port}" if port else None
    return ComponentState(
        name=spec.component,
        pid=0,
        command=spec.command,
        env=spec.environment,
        port=port,
        url=url,
        user=spec.user,
        log_file=f"docker logs {container.name}",
    )


def _refresh_pids(client: docker.DockerClient, state: StackState) -> None:
    """Record each container's main process (its host PID), for status and evidence."""
    for name, component in state.components.items():
        container = client.containers.get(state.values[f"{name}.container"])
        component.pid = int(container.attrs["State"]["Pid"])
        component.create_time = None


def start_docker_stack(
    state_dir: Path,
    *,
    project: str = DEFAULT_PROJECT,
    timeout: float = 180.0,
    progress: Progress | None = None,
    tls_days: int = DEFAULT_DAYS,
    keep_partial: bool = False,
) -> tuple[StackState, bool]:
    """The docker stack recorded in ``state_dir`` if all its containers run, with False; else
    (after removing what is left of an earlier one) a newly started stack, with True.
    ``keep_partial`` returns a stack with some containers running as it is, with False: a run
    judges the stack it finds and must not repair it (only one with nothing running is replaced).
    Images are built first when missing. Raises StackError naming the failed container."""
    say = progress or _quiet
    client = connect()
    with state_lock(state_dir, timeout):
        recorded = StackState.load(state_dir)
        if recorded is not None and not is_docker_state(recorded):
            raise StackError(
                f"a process reference stack is recorded in {state_dir}; stop it first: "
                "opsproof stack down"
            )
        if recorded is not None and _all_running(client, state_dir):
            say(f"docker reference stack already running: {recorded.values['api.url']}")
            return recorded, False
        if recorded is not None and keep_partial:
            status = _status(client, state_dir, recorded)
            if status.any_alive:
                say(
                    f"the docker reference stack of {state_dir} is not all running "
                    f"(not running: {status.dead_names()}): this run judges it as it is and "
                    "restarts nothing; `opsproof stack up` replaces it with a new one"
                )
                return recorded, False
        if recorded is not None or _ours(client, state_dir):
            say("an earlier docker stack of this state dir is not running: removing it")
            _teardown(client, state_dir, recorded, keep_volumes=False)
        if kept := _volumes(client, state_dir):
            raise StackError(
                f"volumes kept from an earlier stack: {', '.join(v.name for v in kept)}; "
                f"remove them first: opsproof stack down --runtime docker --state-dir {state_dir}"
            )
        return _start(client, state_dir, project, timeout, say, tls_days), True


def _all_running(client: docker.DockerClient, state_dir: Path) -> bool:
    found = {c.labels.get("opsproof.component"): c.status for c in _ours(client, state_dir)}
    return set(found) == set(START_ORDER) and all(s == "running" for s in found.values())


def stop_docker_stack(
    state_dir: Path, *, keep_volumes: bool = False, timeout: float = 60.0
) -> list[str]:
    """Stop and remove every container of the stack (found by label), its volumes unless
    ``keep_volumes``, its temporary directory and the state file; the components that ran."""
    client = connect()
    with state_lock(state_dir, timeout):
        state = StackState.load(state_dir)
        return _teardown(client, state_dir, state if is_docker_state(state) else None, keep_volumes)


def _status(client: docker.DockerClient, state_dir: Path, state: StackState) -> StackStatus:
    found = {c.labels.get("opsproof.component"): c for c in _ours(client, state_dir)}
    components = []
    for name, component in state.components.items():
        container = found.get(name)
        alive = container is not None and container.status in ("running", "paused")
        pid = int(container.attrs["State"]["Pid"]) if container is not None else 0
        where = state.values.get(f"{name}.container")
        components.append(
            ComponentStatus(name, pid, alive, component.port, component.url, container=where)
        )
    return StackStatus(
        state.root, state.started_at, str(state_dir / STATE_FILE), components, runtime=RUNTIME
    )


def docker_stack_status(state_dir: Path) -> StackStatus | None:
    """The recorded docker stack with each container's state; None without one."""
    state = StackState.load(state_dir)
    if state is None or not is_docker_state(state):
        return None
    return _status(connect(), state_dir, state)
