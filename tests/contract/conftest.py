"""Run an API contract probe in this process, every item of it, as the gate would."""

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsproof.config.models import HttpService
from opsproof.contract.probe import ContractProbe
from opsproof.contract.report import Outcome
from opsproof.journeys.flow import FlowContext


@dataclass
class ProbeRun:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    """Item id → outcome, for the items that ran."""
    held_back: dict[str, str] = field(default_factory=dict)
    """Item id → why it is not applicable."""
    items_s: float = 0.0
    """From the first item's start to the last one's end: what the budget bounds (the document
    is read before, while the gate collects)."""

    def reason(self, item: str) -> str:
        return self.outcomes[item].observation.reason


def probe_service(
    url: str,
    contract: dict[str, Any],
    state: Path,
    *,
    seed: int = 7,
    headers: dict[str, str] | None = None,
    secrets: frozenset[str] = frozenset(),
    service: dict[str, Any] | None = None,
) -> ProbeRun:
    """Every item of service ``app``'s probe, contract items first, as one session runs them;
    ``service`` adds keys to the service (``ca_file``)."""
    declared = {"kind": "http", "url": url, "headers": headers or {}, "api_contract": contract}
    app = HttpService.model_validate({**declared, **(service or {})})
    probe = ContractProbe(
        "app", app, {"app": app}, FlowContext(state, secrets=secrets), state / "db"
    )
    probe.load()
    targets = probe.targets(access=False) + probe.targets(access=True)
    run = ProbeRun(held_back={t.id: why for t, why in targets if why is not None})
    runnable = [target for target, why in targets if why is None]
    probe.share(len(runnable))
    started = time.monotonic()
    try:
        run.outcomes = {target.id: probe.run(target, seed) for target in runnable}
    finally:
        run.items_s = time.monotonic() - started
        probe.close()
    return run
