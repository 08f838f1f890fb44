"""The assessment plan the results import: what a run of this kind is meant to assess (the
kind's controls in scope), on which system (the SSP it imports), by which method (TEST)."""

from collections.abc import Sequence

from opsproof.evidence.model import RunRecord
from opsproof.evidence.oscal.ids import Json, Uuids, timestamp
from opsproof.evidence.oscal.pins import Pinned, resource
from opsproof.evidence.oscal.results import reviewed_controls


def plan_document(
    run: RunRecord, controls: Sequence[str], uuids: Uuids, metadata: Json, ssp: Pinned
) -> Json:
    activity = uuids("activity", run.kind)
    everything: Json = {"type": "component", "include-all": {}}
    document: Json = {
        "uuid": uuids("assessment-plan"),
        "metadata": metadata,
        "import-ssp": {"href": ssp.href},
        "local-definitions": {
            "activities": [
                {
                    "uuid": activity,
                    "title": f"opsproof {run.kind} suite",
                    "description": f"Run opsproof's {run.kind} suite: each runbook step is a "
                    "test that exercises the system and records what it observed.",
                    "props": [{"name": "method", "value": "TEST"}],
                }
            ]
        },
        "reviewed-controls": reviewed_controls(controls),
        "assessment-subjects": [everything],
        "tasks": [
            {
                "uuid": uuids("task", run.kind),
                "type": "action",
                "title": f"Run the {run.kind} suite on {run.environment}",
                "timing": {"on-date": {"date": timestamp(run.started_at)}},
                "associated-activities": [{"activity-uuid": activity, "subjects": [everything]}],
            }
        ],
        "back-matter": {"resources": [resource(ssp, uuids, "plan")]},
    }
    return {"assessment-plan": document}
