"""Files a document references, pinned by sha256 as back-matter resources."""

from dataclasses import dataclass

from opsproof.evidence.oscal.ids import Json, Uuids, prop

_MEDIA_TYPES = {
    ".json": "application/json",
    ".xml": "application/xml",
    ".html": "text/html",
    ".md": "text/markdown",
    ".pdf": "application/pdf",
}
_PURPOSES = {
    "evidence.json": "the run's evidence: every check, figure, control, waiver (JSON Schema: "
    "opsproof report schema)",
    "junit.xml": "the test runner's JUnit XML",
    "summary.md": "the run's summary",
    "report.html": "the run's report",
    "report.pdf": "the DR drill's protocol",
}


@dataclass(frozen=True)
class Pinned:
    name: str
    """Path in the run directory (``evidence.json``, ``oscal/assessment-plan.json``)."""
    href: str
    """The same file relative to the document that references it."""
    sha256: str

    @property
    def media_type(self) -> str:
        suffix = self.name[self.name.rfind(".") :] if "." in self.name else ""
        return _MEDIA_TYPES.get(suffix, "application/octet-stream")


def resource(pinned: Pinned, uuids: Uuids, kind: str = "evidence") -> Json:
    """OSCAL resource types: ``evidence`` for the run's files, ``plan`` for imported plans."""
    return {
        "uuid": resource_uuid(pinned, uuids),
        "title": pinned.name,
        "description": _PURPOSES.get(pinned.name, pinned.name),
        "props": [{"name": "type", "value": kind}, prop("run-file", pinned.name)],
        "rlinks": [
            {
                "href": pinned.href,
                "media-type": pinned.media_type,
                "hashes": [{"algorithm": "SHA-256", "value": pinned.sha256}],
            }
        ],
    }


def resource_uuid(pinned: Pinned, uuids: Uuids) -> str:
    return uuids("resource", pinned.name)
