"""Command-line options of the evidence: waivers, signing key, change identity, schedule.

Each option can also come from the environment (CI systems set ``GITHUB_SHA`` and the like),
so ``opsproof run gate`` in a pipeline records the change without extra flags.
"""

import getpass
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opsproof.config.durations import parse_duration
from opsproof.errors import ConfigError
from opsproof.evidence.model import ChangeIdentity
from opsproof.evidence.signing import load_private_key

DEFAULT_SCHEDULES = {"chaos": 86400.0, "dr": 31 * 86400.0}
"""Run kinds that are due on a schedule (nightly chaos, monthly DR drill); others run on demand."""

_CHANGE_SOURCES: dict[str, Sequence[str]] = {
    "version": ("OPSPROOF_CHANGE_VERSION",),
    "commit": ("OPSPROOF_CHANGE_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA"),
    "deployer": ("OPSPROOF_CHANGE_DEPLOYER", "GITHUB_ACTOR", "GITLAB_USER_LOGIN"),
    "ticket": ("OPSPROOF_CHANGE_TICKET",),
}


def add_evidence_options(group: pytest.OptionGroup) -> None:
    group.addoption(
        "--waivers",
        dest="opsproof_waivers",
        type=Path,
        default=None,
        help="waiver file (default: $OPSPROOF_WAIVERS); an expired waiver fails the run",
    )
    group.addoption(
        "--signing-key",
        dest="opsproof_signing_key",
        type=Path,
        default=None,
        help="Ed25519 private key (PEM) that signs each run's manifest.json "
        "(default: $OPSPROOF_SIGNING_KEY; create one with: opsproof report keygen)",
    )
    for name in _CHANGE_SOURCES:
        group.addoption(
            f"--change-{name}",
            dest=f"opsproof_change_{name}",
            default=None,
            help=f"{name} of the change a gate run judges "
            f"(default: ${' or $'.join(_CHANGE_SOURCES[name])})",
        )
    group.addoption(
        "--operator",
        dest="opsproof_operator",
        default=None,
        help="who ran this (default: $OPSPROOF_OPERATOR or the login name)",
    )
    group.addoption(
        "--schedule",
        dest="opsproof_schedule",
        default=None,
        help="how often a run of this kind is due, e.g. 1d, or 'none' "
        "(default: chaos 1d, dr 31d, others none); a missed run shows in the history",
    )
    group.addoption(
        "--inconclusive-ok",
        dest="opsproof_inconclusive_ok",
        action="store_true",
        help="exit 0 when the run is INCONCLUSIVE (nothing exercised the target); the "
        "evidence still says INCONCLUSIVE. For exploratory runs, never for a gate",
    )


@dataclass(frozen=True)
class EvidenceSettings:
    """What the run record says beyond test outcomes, read once on the controller."""

    kind: str
    change: ChangeIdentity
    operator: str
    host: str
    schedule_interval_s: float | None
    signing_key: Ed25519PrivateKey | None
    inconclusive_ok: bool = False


def evidence_settings(config: pytest.Config, environ: Mapping[str, str]) -> EvidenceSettings:
    """Raises ConfigError for a bad schedule or signing key, naming the option and the fix."""
    option = config.option
    kind = option.opsproof_kind
    change = ChangeIdentity(
        **{
            name: getattr(option, f"opsproof_change_{name}") or _first(environ, sources)
            for name, sources in _CHANGE_SOURCES.items()
        }
    )
    key_path = option.opsproof_signing_key or environ.get("OPSPROOF_SIGNING_KEY")
    return EvidenceSettings(
        kind=kind,
        change=change,
        operator=option.opsproof_operator or environ.get("OPSPROOF_OPERATOR") or _login(),
        host=socket.gethostname(),
        schedule_interval_s=_schedule(option.opsproof_schedule, kind),
        signing_key=load_private_key(Path(key_path)) if key_path else None,
        inconclusive_ok=bool(option.opsproof_inconclusive_ok),
    )


def waivers_path(config: pytest.Config) -> Path | None:
    explicit: Path | None = config.option.opsproof_waivers
    from_environment = os.environ.get("OPSPROOF_WAIVERS")
    return explicit or (Path(from_environment) if from_environment else None)


def _schedule(value: str | None, kind: str) -> float | None:
    if value is None:
        return DEFAULT_SCHEDULES.get(kind)
    if value.strip().lower() == "none":
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as error:
        raise ConfigError(f"--schedule: {error}, or 'none'") from None
    if seconds <= 0:
        raise ConfigError("--schedule: give a positive interval such as 1d, or 'none'")
    return seconds


def _first(environ: Mapping[str, str], names: Sequence[str]) -> str:
    return next((environ[name] for name in names if environ.get(name)), "")


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return ""
