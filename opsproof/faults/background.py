"""An experiment's background load: a load profile run in a thread of its own from before the
injection (the baseline) through the fault and the recovery, stopped once the experiment has
seen enough. Bounded three ways: the profile's own duration, ``max_requests``, and the stop.

Nothing is injected until the load is seen running: an experiment whose load did not start
measures nothing users felt, so it is not injected (never a pass on faith).
"""

import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from opsproof.config.models import BackgroundLoadSpec, Environment, HttpService
from opsproof.errors import ConfigError, OpsproofError
from opsproof.load.plan import LoadTarget
from opsproof.load.profile import Profile, load_profile
from opsproof.load.progress import Progress
from opsproof.load.result import LoadResult
from opsproof.load.runner import RunSettings, run_profile
from opsproof.load.suite import target_of
from opsproof.paths import SUITES

DEFAULT_LOCUSTFILE = SUITES["load"] / "locustfile.py"
STARTUP_TIMEOUT_S = 60.0
"""Locust's master and workers import, connect and spawn within this, or the load failed."""
STOP_TIMEOUT_S = 30.0
"""After the stop: the workers' last seconds reach the master, which writes the result."""


def loaded_service(environment: Environment, spec: BackgroundLoadSpec) -> str:
    """The http service loaded: the one named, else ``api``, else the only one."""
    services = environment.services_of(HttpService)
    if spec.service is not None:
        return spec.service
    return next(iter(services)) if len(services) == 1 else "api"


def profile_of(spec: BackgroundLoadSpec, base_dir: Path) -> Profile:
    """The profile file (relative to the config's directory), time-scaled, without its
    thresholds: those judge a load run of its own, and an abortOnFail one would stop the
    load the moment the fault bites. The phases' limits judge it here."""
    path = spec.profile if spec.profile.is_absolute() else base_dir / spec.profile
    profile = load_profile(path).scaled(spec.time_scale)
    return replace(profile, thresholds=())


def locustfile_of(spec: BackgroundLoadSpec, base_dir: Path) -> Path:
    if spec.locustfile is None:
        return DEFAULT_LOCUSTFILE
    return spec.locustfile if spec.locustfile.is_absolute() else base_dir / spec.locustfile


@dataclass
class BackgroundLoad:
    """One run of the profile; ``origin`` is its start (wall clock, as the load result's)."""

    spec: BackgroundLoadSpec
    profile: Profile
    target: LoadTarget
    locustfile: Path
    stop_requested: threading.Event = field(default_factory=threading.Event)
    running: threading.Event = field(default_factory=threading.Event)
    origin: float | None = None
    result: LoadResult | None = None
    failure: str | None = None
    _thread: threading.Thread | None = None

    @classmethod
    def of(
        cls, spec: BackgroundLoadSpec, environment: Environment, base_dir: Path
    ) -> "BackgroundLoad":
        """Raises ConfigError (the profile's file, line and key) when the profile is bad."""
        service = environment.services_of(HttpService).get(loaded_service(environment, spec))
        if service is None:
            raise ConfigError(f"no http service {loaded_service(environment, spec)!r} to load")
        locustfile = locustfile_of(spec, base_dir)
        if not locustfile.is_file():
            raise ConfigError(f"{locustfile}: no such locustfile")
        return cls(spec, profile_of(spec, base_dir), target_of(service), locustfile)

    def describe(self) -> str:
        limits = "; ".join(
            f"{phase}: " + ", ".join(f"{k} {v}" for k, v in limit.model_dump().items() if v)
            for phase, limit in self.spec.expect.items()
        )
        return (
            f"load {self.profile.name} (time scale {self.profile.time_scale:g}) on "
            f"{self.target.host} from {self.spec.before:g} s before the injection until "
            f"{self.spec.after:g} s after recovery" + (f"; {limits}" if limits else "")
        )

    def start(self, stack: ExitStack, out_dir: Path | None) -> None:
        """Run the profile in the background; ``stack`` stops it on every way out."""
        if out_dir is None:
            out_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="opsproof-")))
        settings = RunSettings(
            locustfile=self.locustfile,
            out_dir=out_dir,
            workers=self.spec.workers,
            max_requests=self.spec.max_requests,
            startup_timeout=STARTUP_TIMEOUT_S,
            progress=self._progress,
            stop=self.stop_requested,
        )
        self._thread = threading.Thread(target=self._run, args=(settings,), daemon=True)
        self._thread.start()
        stack.callback(self.stop)

    def _run(self, settings: RunSettings) -> None:
        try:
            self.result = run_profile(self.profile, self.target, settings)
        except (OpsproofError, OSError) as error:  # the experiment reports it, never passes
            self.failure = f"the load run failed: {error}"
        finally:
            self.running.set()  # wakes a waiter: it finds the run over

    def _progress(self, line: Progress) -> None:
        if self.origin is None:
            self.origin = time.time() - line.t
            self.running.set()

    def wait_running(self) -> str | None:
        """Block until the load runs; why not, when it ended or never started."""
        self.running.wait(STARTUP_TIMEOUT_S + 5)
        if self.origin is not None and self._thread is not None and self._thread.is_alive():
            return None
        if self.failure is not None:
            return self.failure
        errors = self.result.errors if self.result else []
        why = "; ".join(errors) or f"no progress within {STARTUP_TIMEOUT_S:g} s"
        return f"the background load did not start: {why}"

    def wait_baseline(self) -> None:
        """Until ``before`` seconds of load have run: the baseline."""
        assert self.origin is not None
        self.stop_requested.wait(max(0.0, self.origin + self.spec.before - time.time()))

    def wait_after(self, since: float) -> None:
        """Until ``after`` seconds past ``since`` (wall clock), or the load ended first."""
        if self._thread is not None:
            self._thread.join(max(0.0, since + self.spec.after - time.time()))

    def stop(self) -> LoadResult | None:
        """Stop the load and wait for its result (None: it left none)."""
        self.stop_requested.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
        return self.result
