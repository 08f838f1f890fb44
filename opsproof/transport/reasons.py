"""What OpenSSH's stderr says went wrong, as one line and the error class it belongs to."""

from opsproof.errors import HostAuthRefused, HostError, HostKeyRejected, HostUnreachable
from opsproof.support.text import one_line

_KEY_CHANGED = "REMOTE HOST IDENTIFICATION HAS CHANGED"
_KEY_UNKNOWN = ("No ED25519 host key is known", "host key is known for", "Host key verification")
_AUTH = ("Permission denied", "Too many authentication failures")


def connection_error(name: str, stderr: str, known_hosts: str) -> HostError:
    """The error for a failed ``ssh`` to ``name`` whose client wrote ``stderr``."""
    if _KEY_CHANGED in stderr:
        return HostKeyRejected(
            f"{name}: its host key differs from the one in {known_hosts} (a reinstalled host, "
            "or someone in between): verify the new key, then replace the entry"
        )
    if any(marker in stderr for marker in _KEY_UNKNOWN):
        return HostKeyRejected(
            f"{name}: its host key is not in {known_hosts}: add it after verifying it "
            "(ssh-keyscan, compared with the host's own fingerprint)"
        )
    if any(marker in stderr for marker in _AUTH):
        return HostAuthRefused(
            f"{name}: authentication refused ({_last_line(stderr)}): check ssh.identity_file "
            "and the user's authorized_keys"
        )
    # Anything else (refused, timed out, no route, closed, the control socket gone) means no
    # usable connection; OpenSSH's last line says which.
    return HostUnreachable(f"{name}: unreachable ({_last_line(stderr) or 'ssh exited with 255'})")


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return one_line(lines[-1]) if lines else ""
