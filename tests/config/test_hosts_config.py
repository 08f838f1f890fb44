"""``hosts:``: machines reached over SSH, named once and referenced by services."""

from pathlib import Path
from typing import TYPE_CHECKING

from opsproof.config.loader import load_environment
from opsproof.config.models import HostService
from opsproof.transport.endpoint import endpoint_for

if TYPE_CHECKING:
    from tests.config.conftest import ConfigFiles

HOSTS = """\
    hosts:
      db1:
        url: URL
        ssh: {known_hosts: /etc/opsproof/known_hosts, identity_file: /etc/opsproof/id, sudo: true}
    services:"""


def _with_host(cfg: "ConfigFiles", url: str = "ssh://deploy@db1.example.com:2222") -> str:
    text = cfg.valid.replace("    services:", HOSTS.replace("URL", url), 1)
    return text.replace("backend: local://", "host: db1")


def test_a_host_service_reaches_its_host_over_ssh(cfg: "ConfigFiles") -> None:
    env = load_environment(cfg.write(_with_host(cfg)), "staging", environ=cfg.environ).environment

    box = env.services["box"]
    assert isinstance(box, HostService) and box.host == "db1"
    endpoint = endpoint_for(env.hosts["db1"])
    assert (endpoint.user, endpoint.host, endpoint.port) == ("deploy", "db1.example.com", 2222)
    assert endpoint.known_hosts == Path("/etc/opsproof/known_hosts") and endpoint.sudo


def test_a_reference_to_an_undeclared_host_names_the_declared_ones(cfg: "ConfigFiles") -> None:
    text = _with_host(cfg).replace("host: db1", "host: db2")
    [problem] = cfg.problems(text)

    assert problem.key == "environments.staging.services.box.host"
    assert problem.line == cfg.line_of(text, "host: db2")
    assert problem.message == "'db2' is not declared under hosts: (hosts: db1)"


def test_an_ssh_url_needs_a_user_and_no_password(cfg: "ConfigFiles") -> None:
    [no_user] = cfg.problems(_with_host(cfg, "ssh://db1.example.com"))
    [password] = cfg.problems(_with_host(cfg, "ssh://deploy:hunter2@db1.example.com"))
    [scheme] = cfg.problems(_with_host(cfg, "https://db1.example.com"))

    assert no_user.key == "environments.staging.hosts.db1.url"
    assert no_user.message.startswith("name the user: ssh://user@host:port")
    assert "use a key (ssh.identity_file)" in password.message
    assert "hunter2" not in password.message
    assert "ssh://" in scheme.message


def test_the_testhost_example_loads_given_the_status_shell_variables() -> None:
    example = Path(__file__).parents[2] / "examples" / "testhost.yaml"
    environ = {
        "TESTHOST_SSH_URL": "ssh://opsproof@127.0.0.1:40022",
        "TESTHOST_KNOWN_HOSTS": "/cache/run/known_hosts",
        "TESTHOST_IDENTITY_FILE": "/cache/id_ed25519",
        "TESTHOST_REDIS_PORT": "40079",
        "TESTHOST_POSTGRESQL_PORT": "40032",
        "TESTHOST_POSTGRES_PASSWORD": "pw",
    }

    env = load_environment(example, "testhost", environ=environ).environment

    assert endpoint_for(env.hosts["guest"]).port == 40022
    guest = env.services["guest-host"]
    assert isinstance(guest, HostService) and guest.host == "guest"


UNIT = "        max_memory_ratio: 0.9\n"


def _with_unit(cfg: "ConfigFiles", runtime: str) -> str:
    return _with_host(cfg).replace(UNIT, f"{UNIT}        runtime: {runtime}\n", 1)


def test_a_service_runs_as_a_systemd_unit_on_a_declared_host(cfg: "ConfigFiles") -> None:
    text = _with_unit(cfg, "{systemd: {unit: redis-server.service, host: db1}}")
    env = load_environment(cfg.write(text), "staging", environ=cfg.environ).environment

    runtime = env.services["cache"].runtime  # type: ignore[union-attr]
    assert runtime is not None and runtime.systemd is not None
    assert (runtime.systemd.unit, runtime.systemd.host) == ("redis-server.service", "db1")


def test_a_unit_on_an_undeclared_host_is_one_located_line(cfg: "ConfigFiles") -> None:
    text = _with_unit(cfg, "{systemd: {unit: redis-server.service, host: db9}}")
    [problem] = cfg.problems(text)

    assert problem.key == "environments.staging.services.cache.runtime.systemd.host"
    assert problem.line == cfg.line_of(text, "host: db9")
    assert problem.message == "'db9' is not declared under hosts: (hosts: db1)"


def test_a_unit_name_without_its_type_and_two_runtimes_are_refused(cfg: "ConfigFiles") -> None:
    [bare] = cfg.problems(_with_unit(cfg, "{systemd: {unit: redis-server, host: db1}}"))
    both = "{systemd: {unit: redis-server.service}, process: {match: redis}}"
    [two] = cfg.problems(_with_unit(cfg, both))

    assert bare.key == "environments.staging.services.cache.runtime.systemd.unit"
    assert "write it in full, e.g. redis-server.service" in bare.message
    assert two.key == "environments.staging.services.cache.runtime"
    assert "exactly one runtime" in two.message and "systemd: {...}" in two.message


def test_a_process_on_a_declared_host_keeps_its_pid_file_there(cfg: "ConfigFiles") -> None:
    """The PID file is the host's: it need not exist here (this one does not)."""
    pid_file = "/run/nowhere-here/side.pid"
    assert not Path(pid_file).exists()
    text = _with_unit(cfg, f"{{process: {{pid_file: {pid_file}, host: db1, start: [x]}}}}")
    env = load_environment(cfg.write(text), "staging", environ=cfg.environ).environment

    runtime = env.services["cache"].runtime  # type: ignore[union-attr]
    assert runtime is not None and runtime.process is not None
    assert (str(runtime.process.pid_file), runtime.process.host) == (pid_file, "db1")


def test_a_process_on_an_undeclared_host_is_one_located_line(cfg: "ConfigFiles") -> None:
    text = _with_unit(cfg, "{process: {match: redis-server, host: db9}}")
    [problem] = cfg.problems(text)

    assert problem.key == "environments.staging.services.cache.runtime.process.host"
    assert problem.line == cfg.line_of(text, "host: db9")
    assert problem.message == "'db9' is not declared under hosts: (hosts: db1)"


def test_a_reference_stack_component_on_a_host_is_refused(cfg: "ConfigFiles") -> None:
    [problem] = cfg.problems(_with_unit(cfg, "{process: {component: redis, host: db1}}"))

    assert problem.key == "environments.staging.services.cache.runtime.process"
    assert "a reference-stack component runs on this machine" in problem.message
