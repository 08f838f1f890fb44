"""The metadata every document of a run carries: title, times, version, who assessed, and the
parties a result names (the operator, each waiver's approver)."""

from collections.abc import Iterable

from opsproof import __version__
from opsproof.evidence.model import RunRecord
from opsproof.evidence.oscal.ids import OSCAL_VERSION, Json, Uuids, prop, timestamp

ASSESSOR = "assessor"
APPROVER = "waiver-approver"
UNKNOWN_OPERATOR = "unknown operator"


def party_uuid(uuids: Uuids, name: str) -> str:
    return uuids("party", name)


def metadata(run: RunRecord, run_name: str, title: str, uuids: Uuids) -> Json:
    """``version`` is the run's name: each run's documents are their own version."""
    operator = run.operator or UNKNOWN_OPERATOR
    approvers = sorted({w.approver for w in run.waivers})
    return {
        "title": title,
        "last-modified": timestamp(run.finished_at),
        "version": run_name,
        "oscal-version": OSCAL_VERSION,
        "props": [prop("generator", f"opsproof {__version__}")],
        "roles": [
            {"id": ASSESSOR, "title": "Assessor: ran the checks and answers for the run"},
            {"id": APPROVER, "title": "Waiver approver: accepted a risk for a while"},
        ],
        "parties": [_person(uuids, operator, run.host)]
        + [_person(uuids, approver) for approver in approvers if approver != operator],
        "responsible-parties": _responsible(uuids, operator, approvers),
    }


def _person(uuids: Uuids, name: str, host: str = "") -> Json:
    party: Json = {"uuid": party_uuid(uuids, name), "type": "person", "name": name}
    if host:
        party["props"] = [prop("host", host)]
    return party


def _responsible(uuids: Uuids, operator: str, approvers: Iterable[str]) -> list[Json]:
    responsible: list[Json] = [{"role-id": ASSESSOR, "party-uuids": [party_uuid(uuids, operator)]}]
    approving = [party_uuid(uuids, a) for a in approvers]
    if approving:
        responsible.append({"role-id": APPROVER, "party-uuids": approving})
    return responsible
