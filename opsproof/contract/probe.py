"""One service's API contract probe for a session: its document (read while collecting, so
each operation is an item), its credentials (fetched once, at the first item), its budget and
rate shared by its items, and the run of each item.

The contract item sends valid and invalid inputs with credentials and judges every enabled
check but ``auth_required``; the access item sends valid inputs without credentials to an
operation that declares security, and passes only on 401 or 403.
"""

from collections.abc import Mapping
from pathlib import Path

from hypothesis import strategies as st
from schemathesis import GenerationMode

from opsproof.config.models import ApiContractSpec, HttpService
from opsproof.contract.credentials import Credentials, fetch_credentials
from opsproof.contract.document import ApiDocument, DocumentedOperation, load_document
from opsproof.contract.explore import Run, explore
from opsproof.contract.judge import Violation, judge_access, judge_answer, judge_unanswered
from opsproof.contract.operations import held_back, selected
from opsproof.contract.pacing import Budget, Pacer
from opsproof.contract.report import Outcome, outcome_of
from opsproof.contract.targets import ApiTarget
from opsproof.contract.wire import ApiCase, NoAnswer, Sent, Wire
from opsproof.errors import ConfigError, ObservationError
from opsproof.journeys.flow import FlowContext
from opsproof.probes.result import Observation
from opsproof.support.redact import Redactor

ACCESS_EXAMPLES = 10
"""Inputs an access item tries at most: a refusal rarely depends on the input, and each
request is one more the service must refuse."""


class ContractProbe:
    def __init__(
        self,
        name: str,
        service: HttpService,
        services: Mapping[str, HttpService],
        context: FlowContext,
        database: Path,
    ) -> None:
        assert service.api_contract is not None
        self.name = name
        self.service = service
        self.contract: ApiContractSpec = service.api_contract
        self._services = services
        self._context = context
        self._database = database
        self._document: ApiDocument | None = None
        self.problem = ""
        self._credentials: Credentials | None = None
        self._wire: Wire | None = None
        self._budget = Budget(self.contract.budget, 1)
        self._pacer = Pacer(self.contract.rate)

    def load(self) -> None:
        """Read the document; a problem fails the probe's one item instead of collection."""
        try:
            self._document = load_document(self.service, self.contract, self._context.base_dir)
        except (ObservationError, ConfigError) as exc:  # ConfigError: a ca_file unusable here
            self.problem = f"OpenAPI document: {exc}"

    def targets(self, access: bool) -> list[tuple[ApiTarget, str | None]]:
        """The items, each with why it is not applicable (None: it runs)."""
        if self._document is None:
            return [] if access else [(ApiTarget(f"{self.name} openapi", self.name,
                                                 self.service, ""), None)]  # fmt: skip
        checks = set(self.contract.checks)
        if (access and "auth_required" not in checks) or (
            not access and checks <= {"auth_required"}
        ):
            return []
        found = []
        for documented in self._covered():
            operation = documented.operation
            if access and not operation.secured:
                continue
            why = held_back(self.contract, operation)
            if access and why is not None:
                continue
            kind = " without credentials" if access else ""
            target = ApiTarget(f"{self.name} {operation.label}{kind}", self.name, self.service,
                               operation.label, access)  # fmt: skip
            found.append((target, why))
        return found

    def _covered(self) -> list[DocumentedOperation]:
        assert self._document is not None
        by_operation = {d.operation: d for d in self._document.operations}
        return [by_operation[o] for o in selected(self.contract, by_operation)]

    def share(self, items: int) -> None:
        """The budget, over the ``items`` of this probe the session runs."""
        self._budget = Budget(self.contract.budget, items)

    def plan(self, target: ApiTarget, items: int, seed: int) -> str:
        """What the item would do, for ``--dry-run``: nothing is sent."""
        contract = self.contract
        if target.access:
            examples = min(contract.examples, ACCESS_EXAMPLES)
            what = f"up to {examples} valid inputs without credentials, expecting 401 or 403"
        else:
            checks = ", ".join(c for c in contract.checks if c != "auth_required")
            what = f"up to {contract.examples} valid and invalid inputs; checks {checks}"
        return (
            f"{target.id}: {what}; a share of {contract.budget:g}s over {items} item"
            f"{'s' * (items != 1)}, at most {contract.rate:g} requests/s, answers within "
            f"{contract.response_time:g}s; seed {seed}"
        )

    def run(self, target: ApiTarget, seed: int) -> Outcome:
        """Explore the target's operation within its window of the budget."""
        documented = self._documented(target)
        if isinstance(documented, str):
            return Outcome(Observation(False, target.id, f"{target.id}: {documented}"))
        credentials = self._credentials_once()
        if credentials.problem:
            return Outcome(Observation(False, target.id, f"{target.id}: {credentials.problem}"))
        window = self._budget.next_window()
        redactor = Redactor(self._context.secrets | credentials.secrets)
        wire = self._wire_once(credentials)
        assert documented.api is not None
        operation = documented.operation
        examples = (
            min(self.contract.examples, ACCESS_EXAMPLES)
            if target.access
            else self.contract.examples
        )
        run = Run(examples, seed, self._database)
        key = f"{self.name} {operation.label} {'access' if target.access else 'contract'}"
        if target.access:
            strategy = documented.api.as_strategy(generation_mode=GenerationMode.POSITIVE)
            found = explore(
                strategy, lambda case: wire.send(case, operation, window, authenticated=False),
                _access_judge, window, run, key, redactor,
            )  # fmt: skip
            return outcome_of(
                target.id, found, ("auth_required",), seed, self.contract.response_time
            )
        checks = tuple(check for check in self.contract.checks if check != "auth_required")
        strategy = st.one_of(
            documented.api.as_strategy(generation_mode=GenerationMode.POSITIVE),
            documented.api.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
        response_time = self.contract.response_time

        def judge(case: ApiCase, outcome: Sent | NoAnswer) -> list[Violation]:
            if isinstance(outcome, Sent):
                return judge_answer(case, outcome, checks, response_time)
            return judge_unanswered(case, outcome, checks)

        found = explore(
            strategy, lambda case: wire.send(case, operation, window), judge, window, run, key,
            redactor,
        )  # fmt: skip
        return outcome_of(target.id, found, checks, seed, response_time)

    def _documented(self, target: ApiTarget) -> DocumentedOperation | str:
        if self._document is None:
            return self.problem or "OpenAPI document not loaded"
        for documented in self._document.operations:
            if documented.operation.label == target.label:
                if documented.api is None:
                    return f"Schemathesis cannot use its definition: {documented.problem}"
                return documented
        return f"{target.label} is not in {self._document.source} any more"

    def _credentials_once(self) -> Credentials:
        if self._credentials is None:
            self._credentials = self._fetch_credentials()
        return self._credentials

    def _fetch_credentials(self) -> Credentials:
        return fetch_credentials(self.name, self.contract.auth, self._services, self._context)

    def _wire_once(self, credentials: Credentials) -> Wire:
        if self._wire is None:
            steps = self.contract.auth is not None and bool(self.contract.auth.steps)
            refresh = self._fetch_credentials if steps else None
            self._wire = Wire(
                self.service, credentials, self._context.secrets, self._pacer, refresh
            )
        return self._wire

    def close(self) -> None:
        if self._wire is not None:
            self._wire.close()


def _access_judge(case: ApiCase, outcome: Sent | NoAnswer) -> list[Violation]:
    return judge_access(case, outcome) if isinstance(outcome, Sent) else []
