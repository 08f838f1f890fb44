"""The state file of what opsproof launched: which components run, where, and how to start
them again.

The file is the contract between ``opsproof stack up`` (writes it), the config loader
(``${stack.api.url}`` interpolation reads ``values``, through the lookup the plugin injects) and
runtimes (restart a killed component from its recorded command). It lives with the runtimes
because they read it: the reference stack is a client that writes it. It holds the stack's
generated passwords, so it is written 0600.
"""

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from opsproof.errors import StackError
from opsproof.support.processes import ComponentState

STATE_FILE = "stack.json"


def default_state_dir() -> Path:
    """``$OPSPROOF_STATE_DIR``, else ``$XDG_STATE_HOME/opsproof``,
    else ``~/.local/state/opsproof``."""
    if explicit := os.environ.get("OPSPROOF_STATE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "opsproof"


@dataclass
class StackState:
    """Everything known about one running reference stack."""

    root: str
    """Temporary directory holding data, logs, certificates and configs."""
    started_at: str
    components: dict[str, ComponentState]
    values: dict[str, str]
    """Flat interpolation values: ``api.url``, ``redis.port``, ``postgres.password``,
    ``tls.ca_file``."""
    secrets: list[str] = field(default_factory=list)
    """Values that must never appear in a report."""

    def save(self, state_dir: Path) -> Path:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(self), out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, state_dir: Path) -> "StackState | None":
        """The recorded stack, or None when no stack was started from this state dir."""
        path = state_dir / STATE_FILE
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StackError(
                f"{path}: unreadable stack state ({exc}); remove it and start again"
            ) from exc
        components = {name: ComponentState(**c) for name, c in raw.pop("components").items()}
        return cls(components=components, **raw)
