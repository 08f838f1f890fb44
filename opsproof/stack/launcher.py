"""Start, inspect and stop the reference stack recorded in a state directory."""

import datetime as dt
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from opsproof.backup.postgres.cluster import initdb
from opsproof.errors import BackupError, StackError
from opsproof.runtimes.launched import STATE_FILE, StackState
from opsproof.stack.certs import DEFAULT_DAYS, write_tls_material
from opsproof.stack.components import (
    POSTGRES_OS_USER,
    START_ORDER,
    Layout,
    Ports,
    declare,
    service_dir,
    stale_files,
    stop_signal,
    values,
    write_nginx_conf,
)
from opsproof.stack.lock import state_lock
from opsproof.stack.monitoring import (
    AFTER_POSTGRES,
    EARLY,
    declare_monitoring,
    launch,
    monitoring_running,
    stop_monitoring,
    wait_monitoring_ready,
)
from opsproof.stack.monitoring import recorded as recorded_monitoring
from opsproof.stack.postgres import bootstrap
from opsproof.stack.readiness import CHECKS, wait_healthy
from opsproof.stack.status import ComponentStatus, StackStatus
from opsproof.support.ports import free_ports
from opsproof.support.processes import ComponentState, is_alive, log_tail, spawn, terminate
from opsproof.support.waiting import POLL_INTERVAL, time_left

Progress = Callable[[str], None]
ROOT_PREFIX = "opsproof-stack-"
CLEANUP_TIMEOUT = 15.0


def _quiet(message: str) -> None:
    """Progress sink when the caller passes none."""


def _with_log(component: ComponentState, message: str) -> StackError:
    return StackError(
        f"{component.name}: {message}\n--- last lines of {component.log_file} ---\n"
        f"{log_tail(component.log_file)}"
    )


def _launch(state: StackState, state_dir: Path, component: ComponentState, say: Progress) -> None:
    where = f" on 127.0.0.1:{component.port}" if component.port else ""
    say(f"starting {component.name}{where}")
    spawn(component)
    state.components[component.name] = component
    state.save(state_dir)  # recorded at once, so a crash of ours still leaves it findable


def _wait_ready(state: StackState, names: list[str], deadline: float) -> None:
    """Poll each named component until its check passes; fail fast if one exits."""
    pending, problems = list(names), dict.fromkeys(names, "not checked yet")
    while pending:
        for name in list(pending):
            component = state.components[name]
            if not is_alive(component):
                raise _with_log(component, "exited while starting")
            problem = CHECKS[name](state, component)
            if problem is None:
                pending.remove(name)
            else:
                problems[name] = problem
        if pending and time.monotonic() >= deadline:
            component = state.components[pending[0]]
            raise _with_log(component, f"not ready in time: {problems[component.name]}")
        if pending:
            time.sleep(POLL_INTERVAL)


def _teardown(state_dir: Path, state: StackState, timeout: float) -> list[str]:
    """Stop every recorded process, then remove the root directory and the state file."""
    stop_monitoring(state_dir, timeout)
    stopped = terminate(list(state.components.values()), stop_signal, timeout)
    root = Path(state.root)
    # Only ever delete a directory we created: a hand-edited state file must not aim rmtree.
    if root.name.startswith(ROOT_PREFIX):
        shutil.rmtree(root, ignore_errors=True)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return stopped


def _start(
    state_dir: Path, timeout: float, say: Progress, tls_days: int, monitoring: bool
) -> StackState:
    began = time.monotonic()
    deadline = began + timeout
    root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX))
    # Traversable by postgres and nginx's unprivileged workers; still not listable.
    root.chmod(0o711)
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    state = StackState(root=str(root), started_at=started_at, components={}, values={})
    try:
        layout = Layout(root)
        layout.logs.mkdir()
        layout.redis_data.mkdir()
        ports = Ports(*free_ports(4))
        password = secrets.token_urlsafe(24)
        tls = write_tls_material(layout.tls, days=tls_days)
        write_nginx_conf(layout, ports, tls)
        state.values = values(layout, ports, password, tls, (state_dir / STATE_FILE).absolute())
        state.secrets = [password]
        declared = declare(layout, ports, password, tls)
        watch = declare_monitoring(layout, state.values) if monitoring else None
        if watch is not None:
            state.values.update(watch.values)
        # The service retries its dependencies by itself, so it boots while initdb runs.
        for name in ("redis", "api", "worker", "nginx"):
            _launch(state, state_dir, declared[name], say)
        if watch is not None:
            launch(state_dir, watch, EARLY, say)
        postgres = declared["postgres"]
        say("initialising the postgres cluster")
        try:
            initdb(
                layout.postgres_data,
                layout.postgres_run,
                Path(state.values["postgres.bin_dir"]),
                POSTGRES_OS_USER,
                Path(postgres.log_file),
                time_left(deadline),
            )
            _launch(state, state_dir, postgres, say)
            say("creating the opsproof role and database, applying the schema")
            schema = service_dir() / "reference_service" / "schema.sql"
            bootstrap(layout, ports.postgres, password, schema, deadline)
        except (StackError, BackupError) as exc:
            raise _with_log(postgres, str(exc).removeprefix("postgres: ")) from None
        if watch is not None:
            launch(state_dir, watch, AFTER_POSTGRES, say)
        say("waiting for every component to be ready")
        _wait_ready(state, list(START_ORDER), deadline)
        if watch is not None:
            wait_monitoring_ready(watch, deadline)
        wait_healthy(state, time_left(deadline))
    except BaseException:
        _teardown(state_dir, state, CLEANUP_TIMEOUT)
        raise
    state.components = {name: state.components[name] for name in START_ORDER}
    state.save(state_dir)
    say(f"reference stack ready in {time.monotonic() - began:.1f} s: {state.values['api.url']}")
    return state


def start_stack(
    state_dir: Path,
    *,
    timeout: float = 90.0,
    progress: Progress | None = None,
    tls_days: int = DEFAULT_DAYS,
    monitoring: bool = True,
    keep_partial: bool = False,
) -> tuple[StackState, bool]:
    """The stack recorded in ``state_dir`` if all its processes are alive, with False; else
    (after cleaning up a dead or half-dead one) a newly started stack, with True.
    ``keep_partial`` returns a half-dead stack as it is, with False: a run judges the stack it
    finds and must not repair it (only a stack with nothing alive is replaced).
    ``monitoring`` adds Prometheus, Alertmanager and exporters (opsproof.stack.monitoring);
    tests that do not look at them pass False and start faster.
    Raises StackError naming the component that failed, with the tail of its log."""
    say = progress or _quiet
    with state_lock(state_dir, timeout):
        found = StackState.load(state_dir)
        if found is not None:
            status = _status(state_dir, found)
            missing = [name for name in START_ORDER if name not in found.components]
            if monitoring and not monitoring_running(state_dir):
                have = {c.name for c in recorded_monitoring(state_dir)}
                missing += [name for name in (*EARLY, *AFTER_POSTGRES) if name not in have]
            if status.running and not missing:
                say(f"reference stack already running: {found.values['api.url']}")
                return found, False
            if keep_partial and status.any_alive:
                damage = [f"dead: {status.dead_names()}"] if status.dead else []
                damage += [f"never started: {', '.join(missing)}"] if missing else []
                say(
                    f"the reference stack in {found.root} is not all running "
                    f"({'; '.join(damage)}): this run judges it as it is and restarts nothing; "
                    "`opsproof stack up` replaces it with a new one"
                )
                return found, False
            alive = "not (all) running" if status.any_alive else "not running (nothing alive)"
            say(f"recorded stack in {found.root} is {alive}: cleaning it up")
            _teardown(state_dir, found, CLEANUP_TIMEOUT)
        return _start(state_dir, timeout, say, tls_days, monitoring), True


def stop_stack(state_dir: Path, *, timeout: float = 15.0) -> list[str]:
    """Stop every component (graceful signal, then SIGKILL to its whole process group) and
    remove the root directory and state file; the names of the components that were running."""
    with state_lock(state_dir, timeout):
        state = StackState.load(state_dir)
        return [] if state is None else _teardown(state_dir, state, timeout)


def _status(state_dir: Path, state: StackState) -> StackStatus:
    everything = [*state.components.values(), *recorded_monitoring(state_dir)]
    return StackStatus(
        root=state.root,
        started_at=state.started_at,
        state_file=str(state_dir / STATE_FILE),
        components=[ComponentStatus(c.name, c.pid, is_alive(c), c.port, c.url) for c in everything],
    )


def stack_status(state_dir: Path) -> StackStatus | None:
    """What is recorded in ``state_dir`` (the core components, then the monitoring ones) and
    which processes are alive; None without a stack."""
    state = StackState.load(state_dir)
    return None if state is None else _status(state_dir, state)


def _recorded(state_dir: Path, name: str) -> tuple[StackState, ComponentState]:
    state = StackState.load(state_dir)
    if state is None:
        raise StackError(
            f"no reference stack recorded in {state_dir}; start one: opsproof stack up"
        )
    try:
        return state, state.components[name]
    except KeyError:
        known = ", ".join(state.components)
        raise StackError(f"no component {name!r} in the reference stack; it has {known}") from None


def stop_component(state_dir: Path, name: str, *, timeout: float = 10.0) -> None:
    """Stop one component (graceful signal, then SIGKILL to its process group) and wait
    until none of its processes is left."""
    with state_lock(state_dir, timeout):
        _, component = _recorded(state_dir, name)
        terminate([component], stop_signal, timeout)


def start_component(
    state_dir: Path, name: str, *, timeout: float = 30.0, wait_ready: bool = True
) -> ComponentState:
    """Start a stopped or killed component again from its recorded command, wait until it is
    ready and record its new pid. A component still alive is only waited for.
    ``wait_ready=False`` returns once it is started: a PostgreSQL being restored into a fresh
    cluster cannot pass its readiness check (the application role) until the restore is done."""
    deadline = time.monotonic() + timeout
    with state_lock(state_dir, timeout):
        state, component = _recorded(state_dir, name)
        if not is_alive(component):
            # A killed leader can leave orphans (PostgreSQL backends keep its shared memory).
            terminate([component], stop_signal, min(CLEANUP_TIMEOUT, timeout / 2))
            for path in stale_files(name, state.values):
                path.unlink(missing_ok=True)
            spawn(component)
            state.save(state_dir)
        if wait_ready:
            _wait_ready(state, [name], deadline)
        return component
