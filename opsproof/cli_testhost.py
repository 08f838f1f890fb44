"""``opsproof testhost up | down | status``: the Debian guest the host features are proven on."""

import json
import shlex
import sys
from pathlib import Path

import click

from opsproof.errors import OpsproofError
from opsproof.testhost.layout import CacheLayout, default_cache_dir
from opsproof.testhost.machine import GuestState

USAGE_ERROR = 2
cache_option = click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the image and the running guest's files live "
    "(default: $OPSPROOF_TESTHOST_DIR or ~/.cache/opsproof/testhost).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def _layout(cache_dir: Path | None) -> CacheLayout:
    return CacheLayout((cache_dir or default_cache_dir()).absolute())


class _WordedGroup(click.Group):
    """Its commands' own errors (no image, qemu failed, unreachable) end as one line, exit 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except OpsproofError as error:
            click.echo(f"opsproof: {error}", err=True)
            sys.exit(USAGE_ERROR)


@click.group(cls=_WordedGroup)
def testhost() -> None:
    """A Debian 12 guest (systemd, cgroup v2, sshd, Redis, PostgreSQL, an app) under qemu.

    Reachable only through ports forwarded on 127.0.0.1; its network reaches nothing. The image
    is built once (as root, from this machine's Debian mirror) and every boot starts from a
    clean copy-on-write overlay of it.
    """


@testhost.command("up")
@cache_option
@json_option
def up(cache_dir: Path | None, as_json: bool) -> None:
    """Boot the guest (building its image first if needed); print how to reach it."""
    from opsproof.testhost.machine import up as boot

    state = boot(_layout(cache_dir), lambda message: click.echo(message, err=True))
    if as_json:
        click.echo(json.dumps(state.as_dict(), indent=2))
        return
    forwarded = {name: port for name, port in state.ports.items() if name != "ssh"}
    click.echo(
        f"testhost up: {state.ssh_url} (accel {state.accel}, sshd after {state.boot_seconds} s, "
        f"systemd {state.system_state} after {state.ready_seconds} s)\n"
        f"  ssh -i {state.identity_file} -o UserKnownHostsFile={state.known_hosts} "
        f"-p {state.ports['ssh']} {state.user}@127.0.0.1\n  "
        + "  ".join(f"{name} 127.0.0.1:{port}" for name, port in forwarded.items())
    )


@testhost.command("down")
@cache_option
def down(cache_dir: Path | None) -> None:
    """Power the guest off (killing qemu if it does not stop in time); its overlay goes too."""
    from opsproof.testhost.machine import down as stop

    state = stop(_layout(cache_dir))
    click.echo(f"testhost down (qemu pid {state.pid})" if state else "no testhost was running")


@testhost.command("status")
@cache_option
@json_option
@click.option(
    "--shell",
    "as_shell",
    is_flag=True,
    help="Print TESTHOST_*=value lines for `eval`, so an opsproof.yaml can say "
    "${TESTHOST_SSH_PORT} (the ports change with every boot).",
)
def status(cache_dir: Path | None, as_json: bool, as_shell: bool) -> None:
    """Whether the guest runs, and its ports, pid, accelerator and boot time. Exit 1 if not."""
    from opsproof.testhost.machine import status as find

    state = find(_layout(cache_dir))
    if as_shell:
        if state:
            click.echo(shell_variables(state))
    elif as_json:
        click.echo(json.dumps(state.as_dict() if state else {"running": False}, indent=2))
    elif state:
        click.echo(
            f"running: {state.ssh_url} pid {state.pid} accel {state.accel} "
            f"boot {state.boot_seconds} s ports {state.ports}"
        )
    else:
        click.echo("not running")
    sys.exit(0 if state else 1)


def shell_variables(state: GuestState) -> str:
    """The guest's coordinates as shell assignments, values quoted."""
    values = {
        "TESTHOST_SSH_URL": state.ssh_url,
        "TESTHOST_KNOWN_HOSTS": state.known_hosts,
        "TESTHOST_IDENTITY_FILE": state.identity_file,
        "TESTHOST_POSTGRES_PASSWORD": state.postgres_password,
        **{f"TESTHOST_{name.upper()}_PORT": str(port) for name, port in state.ports.items()},
    }
    return "\n".join(f"export {key}={shlex.quote(value)}" for key, value in values.items())
