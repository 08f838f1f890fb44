"""opsproof's control catalogue (shipped and the team's own) as an OSCAL catalog, and the
profile that selects a run kind's controls from it: what the plan's control ids resolve to."""

from collections.abc import Sequence

from opsproof.evidence.catalogue import Catalogue
from opsproof.evidence.oscal.ids import Json, Uuids, control_token, objective_id, token


def catalog_document(catalogue: Catalogue, uuids: Uuids, metadata: Json) -> Json:
    """One group per framework; each control keeps its opsproof id as its ``label``."""
    groups = []
    for framework, name in catalogue.frameworks.items():
        members = [c for c in catalogue.controls if catalogue.framework_of(c) == framework]
        if not members:
            continue
        groups.append(
            {
                "id": token(framework.lower()),
                "title": name,
                "props": [{"name": "label", "value": framework}],
                "controls": [_control(control, catalogue.title(control)) for control in members],
            }
        )
    return {"catalog": {"uuid": uuids("catalog"), "metadata": metadata, "groups": groups}}


def _control(control: str, title: str) -> Json:
    return {
        "id": control_token(control),
        "title": title,
        "props": [{"name": "label", "value": control}],
        "parts": [{"id": objective_id(control), "name": "objective", "prose": title}],
    }


def profile_document(
    controls: Sequence[str], uuids: Uuids, metadata: Json, catalog: tuple[str, Json]
) -> Json:
    """``catalog`` is the catalog's href and its back-matter resource (with its hash)."""
    href, resource = catalog
    selection: Json = (
        {"include-controls": [{"with-ids": [control_token(c) for c in controls]}]}
        if controls
        else {"include-all": {}}
    )
    document: Json = {
        "uuid": uuids("profile"),
        "metadata": metadata,
        "imports": [{"href": href, **selection}],
        "merge": {"as-is": True},
        "back-matter": {"resources": [resource]},
    }
    return {"profile": document}
