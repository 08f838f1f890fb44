"""The SSH transport against a real sshd (the test host guest): one connection per session,
strict host keys, bounded commands, one-line reasons for every way a login fails."""

import contextlib
import subprocess
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from opsproof.errors import HostAuthRefused, HostKeyRejected, HostUnreachable
from opsproof.support.ports import free_ports
from opsproof.testhost.machine import GuestState
from opsproof.transport.endpoint import SshEndpoint
from opsproof.transport.ssh import SshSession


def _new_key(directory: Path) -> Path:
    key = directory / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def test_runs_a_command_and_returns_its_output_and_status(session: SshSession) -> None:
    result = session.run(["sh", "-c", "echo out; echo err >&2; exit 3"])

    assert (result.exit_status, result.stdout, result.stderr) == (3, b"out\n", b"err\n")
    assert not result.timed_out and not result.truncated


def test_arguments_reach_the_host_unsplit(session: SshSession) -> None:
    result = session.run(["printf", "%s|", "two words", "$HOME", "a;b"])

    assert result.text() == "two words|$HOME|a;b|"


def test_sudo_runs_as_root_and_the_user_is_not_root(guest: GuestState) -> None:
    with SshSession(guest.endpoint(sudo=True)) as root:
        assert root.run(["id", "-u"]).text() == "0\n"
        assert root.run(["id", "-u"], sudo=False).text() != "0\n"


def test_commands_share_one_connection(guest: GuestState, session: SshSession) -> None:
    # sshd puts the client's address and port in SSH_CONNECTION: one TCP connection, one port.
    seen = {session.run(["sh", "-c", "echo $SSH_CONNECTION"]).text() for _ in range(5)}
    with SshSession(guest.endpoint()) as other:
        elsewhere = other.run(["sh", "-c", "echo $SSH_CONNECTION"]).text()

    assert len(seen) == 1
    assert elsewhere not in seen
    assert session.master_pid() is not None


def test_close_ends_the_master_and_removes_its_socket(guest: GuestState) -> None:
    session = SshSession(guest.endpoint()).open()
    control = session.control_path
    assert session.master_pid() is not None

    session.close()

    assert not control.parent.exists()
    assert session.master_pid() is None


def test_a_command_past_its_timeout_is_killed_on_the_host(session: SshSession) -> None:
    result = session.run(["sleep", "317"], timeout=2)

    assert result.timed_out
    assert 2 <= result.elapsed < 10, result.elapsed
    left = session.run(["pgrep", "-f", "^sleep 317"])
    assert left.exit_status == 1, f"still running on the host: {left.text()}"


def test_output_is_bounded_and_marked_truncated(session: SshSession) -> None:
    result = session.run(["head", "-c", "3000000", "/dev/zero"], max_output=1000)

    assert result.ok and result.truncated
    assert result.stdout == b"\0" * 1000


def test_output_written_to_a_file_is_bounded_and_marked_truncated(
    session: SshSession, tmp_path: Path
) -> None:
    with (tmp_path / "copy").open("wb") as copy:
        result = session.run(["head", "-c", "3000000", "/dev/zero"], max_output=999, stdout_to=copy)

    assert result.ok and result.truncated and result.stdout == b""
    assert (tmp_path / "copy").read_bytes() == b"\0" * 999


def test_a_file_that_refuses_the_output_raises_its_error(session: SshSession) -> None:
    full = Path("/dev/full")
    with full.open("wb", buffering=0) as disk, pytest.raises(OSError, match="space"):
        session.run(["head", "-c", "300000", "/dev/zero"], stdout_to=disk)


def test_a_changed_host_key_is_refused(guest: GuestState, tmp_path: Path) -> None:
    other = _new_key(tmp_path).with_suffix(".pub").read_text().split()[:2]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{guest.ports['ssh']} {' '.join(other)}\n")

    with pytest.raises(HostKeyRejected) as refused:
        SshSession(replace(guest.endpoint(), known_hosts=known_hosts)).open()

    message = str(refused.value)
    assert "differs from the one in" in message and "\n" not in message


def test_an_unknown_host_key_is_refused(guest: GuestState, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")

    with pytest.raises(HostKeyRejected, match="is not in"):
        SshSession(replace(guest.endpoint(), known_hosts=known_hosts)).open()


def test_a_key_the_host_does_not_know_is_refused(guest: GuestState, tmp_path: Path) -> None:
    stranger = _new_key(tmp_path)

    with pytest.raises(HostAuthRefused, match="authentication refused") as refused:
        SshSession(replace(guest.endpoint(), identity_file=stranger)).open()

    assert "\n" not in str(refused.value)


def test_a_port_nobody_listens_on_is_unreachable(tmp_path: Path) -> None:
    [port] = free_ports(1)
    endpoint = SshEndpoint("ops", "127.0.0.1", port, known_hosts=tmp_path / "known_hosts")

    with pytest.raises(
        HostUnreachable, match=rf"ssh://ops@127.0.0.1:{port}: unreachable \(.*refused"
    ):
        SshSession(endpoint).open()


def _kill_master(pid: int) -> None:
    """The connection lost: the master gone, not still answering while it exits."""
    subprocess.run(["kill", str(pid)], check=True)
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).wait(10)


def test_a_lost_connection_is_opened_again_once(guest: GuestState) -> None:
    with SshSession(guest.endpoint()) as session:
        first = session.master_pid()
        assert first is not None
        _kill_master(first)

        assert session.run(["true"]).ok
        assert session.reconnects == 1
        assert session.master_pid() not in (None, first)


def test_a_host_gone_mid_run_is_unreachable_in_one_line(guest: GuestState, tmp_path: Path) -> None:
    [closed] = free_ports(1)
    with SshSession(guest.endpoint()) as session:
        master = session.master_pid()
        assert master is not None
        # The same session pointed at a port where nothing listens: its reconnect must fail.
        session.endpoint = replace(session.endpoint, port=closed)
        _kill_master(master)

        with pytest.raises(HostUnreachable) as lost:
            session.run(["true"])

    assert "\n" not in str(lost.value) and "unreachable" in str(lost.value)
