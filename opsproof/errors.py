"""The one exception tree of opsproof.

Every error opsproof raises derives from :class:`OpsproofError` and carries a message that names
what is wrong (file, line, key) and how to fix it, so the CLI prints it without a traceback.
This module imports nothing of opsproof, so every layer can raise and catch these::

    OpsproofError
    ├── ConfigError                 the config file is malformed or does not validate
    │   ├── StackNotRunning         a ${stack.KEY} value while no reference stack runs
    │   ├── AliasesTooLarge         YAML aliases expand beyond the loader's limit
    │   └── ThresholdSyntaxError    a k6 threshold or metric selector k6 would reject
    ├── StackError                  the reference stack could not be started, found or stopped
    ├── SafetyError                 an action the environment does not allow
    ├── RevertFailed                a fault could not be undone
    ├── BackupError                 a backup, restore or comparison step cannot go on
    ├── EngineUnavailable           no Docker engine answers
    ├── ToolMissing                 an external program is not installed
    ├── ReceiverError               the run's alert webhook could not listen
    ├── OutputExists                ``opsproof init`` would overwrite a file it was not told to
    ├── HostError                   a host could not be reached or used over SSH
    │   ├── HostUnreachable         no connection, or it was lost
    │   ├── HostKeyRejected         the host's key is unknown or differs from known_hosts
    │   └── HostAuthRefused         the host refused the user's key
    ├── TestHostError               ``opsproof testhost`` could not build, boot or stop the guest
    ├── ObservationError            a read of the observed system got no usable answer
    │   ├── FetchError              an HTTP(S) request: no complete, acceptable answer
    │   ├── UndecodableBody         a body that does not decode as its Content-Encoding says
    │   ├── ApiError                Prometheus or Alertmanager answered no success
    │   ├── Unanswered              a Redis, PostgreSQL or Prometheus probe's query failed
    │   └── UnusableApiDocument     an OpenAPI document that cannot be read, parsed or used
    ├── EvidenceError               a run's evidence cannot be used as asked
    │   ├── UnverifiableError       no readable manifest to verify against
    │   ├── SigningError            a signing or public key file cannot be used
    │   ├── ExportRefused           a run that cannot be exported
    │   └── BaselineRefused         a load run that cannot be this run's baseline
    ├── CheckFailed                 a failed k6-style check, as Locust's statistics record it
    └── RequestFailed               a config scenario's request judged failed: its kind and why

The observation errors are siblings: code that catches one never catches another by accident.

One class is not an error and stands outside the tree: :class:`BudgetSpent`, the signal that
ends an API contract probe's Hypothesis run when its time is up.
"""


class OpsproofError(Exception):
    """Root of every error opsproof raises on purpose."""


class ConfigError(OpsproofError):
    """The configuration file is malformed or does not validate."""


class StackNotRunning(ConfigError):
    """A ``${stack.KEY}`` reference while no reference stack runs; ``reference`` is its text."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"{reference} needs the reference stack, which is not running")
        self.reference = reference


class AliasesTooLarge(ConfigError):
    """YAML aliases expand to more values than the loader builds; at 1-based ``line``,
    ``column`` and key ``path``, where the loader words the problem."""

    def __init__(self, line: int, column: int, path: tuple[str | int, ...]) -> None:
        super().__init__(f"aliases expand too far at line {line}, column {column}")
        self.line, self.column, self.path = line, column, path


class ThresholdSyntaxError(ConfigError, ValueError):
    """A threshold or metric selector that k6 would reject; the message says why.

    Also a ValueError because pydantic turns only ValueError (and AssertionError) raised in a
    validator into a located validation error; the load profile's validators rely on that.
    """


class StackError(OpsproofError):
    """The reference stack could not be started, found or stopped."""


class SafetyError(OpsproofError):
    """An action was refused because the environment does not allow it."""


class RevertFailed(OpsproofError):
    """A fault could not be undone; it stays open in the ledger for the watchdog and the next
    run, and ``opsproof revert`` retries it."""


class BackupError(OpsproofError):
    """A backup or restore step failed; the message names the step, the file and the cause."""


class EngineUnavailable(OpsproofError):
    """No Docker engine answers; the message says where it looked and how to start one."""


class ToolMissing(OpsproofError):
    """The program is not installed; worded with the package to install."""


class ReceiverError(OpsproofError):
    """The webhook could not listen where Alertmanager sends its notifications."""


class OutputExists(OpsproofError):
    """The output file exists and overwriting it was not asked for."""


class HostError(OpsproofError):
    """A host could not be reached or used over SSH; the message is one line naming the host."""


class HostUnreachable(HostError):
    """No SSH connection to the host (refused, timed out, no route), or it was lost."""


class HostKeyRejected(HostError):
    """The host's key is not in the configured known_hosts, or differs from the one there."""


class HostAuthRefused(HostError):
    """The host refused authentication with the configured key or agent."""


class TestHostError(OpsproofError):
    """The test host guest could not be built, booted or stopped; the message says which step."""


class ObservationError(OpsproofError):
    """A read of the observed system got no usable answer; the message says why. Probes turn
    it into a failed observation, never let it escape."""


class FetchError(ObservationError):
    """No complete, acceptable answer within the deadline and limits; the message says why."""


class UndecodableBody(ObservationError):
    """The body does not decode as its Content-Encoding says; the message says why."""


class ApiError(ObservationError):
    """The server did not answer, or answered something else than a success; worded."""


class Unanswered(ObservationError):
    """Connecting or querying failed; carries the reason already worded."""


class UnusableApiDocument(ObservationError):
    """An API contract probe's OpenAPI document cannot be fetched, read, parsed or used by
    Schemathesis; the message says why, in one line."""


class BudgetSpent(BaseException):
    """Not an error: an API contract probe's time share ran out inside a Hypothesis run.

    Hypothesis treats every ``Exception`` a test raises as a failure to shrink and replay; a
    ``BaseException`` ends the run at once (Schemathesis's own engine stops it with
    ``KeyboardInterrupt``). Raised and caught by ``opsproof.contract.explore`` only."""


class EvidenceError(OpsproofError):
    """A run's evidence cannot be used as asked."""


class UnverifiableError(EvidenceError):
    """There is no readable manifest to verify against."""


class SigningError(EvidenceError):
    """A signing or public key file cannot be used."""


class ExportRefused(EvidenceError):
    """The run cannot be exported: it does not verify, or its evidence is unreadable."""


class BaselineRefused(EvidenceError):
    """A load run that cannot be compared with this one: unreadable, or of another shape."""


class CheckFailed(OpsproofError):
    """Marks a failed check in Locust's own statistics (given to Locust, never raised)."""


class RequestFailed(OpsproofError):
    """Marks a request of a config-only load scenario as failed (given to Locust, never
    raised): ``kind`` groups it in the per-name breakdown (status mismatch, check failed…)."""

    def __init__(self, kind: str, why: str) -> None:
        super().__init__(why)
        self.kind = kind
