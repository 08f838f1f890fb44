"""``report.pdf``: the DR drill protocol an auditor files, with a sign-off block (fpdf2)."""

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from opsproof.evidence import formatting
from opsproof.evidence.catalogue import Catalogue
from opsproof.evidence.model import RunRecord
from opsproof.evidence.records import DrillRecord

_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
"""Debian's fonts-dejavu-core: Unicode text (names, arrows, dashes) in the protocol."""
_FAMILY = "DejaVu"
_HEADINGS = FontFace(emphasis="BOLD", fill_color=(226, 232, 240))


class _Protocol(FPDF):
    def __init__(self, run_name: str) -> None:
        super().__init__(format="A4")
        self._run_name = run_name
        self.unicode = (_FONT_DIR / "DejaVuSans.ttf").is_file()
        if self.unicode:
            self.add_font(_FAMILY, "", _FONT_DIR / "DejaVuSans.ttf")
            self.add_font(_FAMILY, "B", _FONT_DIR / "DejaVuSans-Bold.ttf")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(16, 16, 16)

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(_FAMILY if self.unicode else "helvetica", "B" if bold else "", size)

    def text_of(self, value: object) -> str:
        """The core PDF fonts know Latin-1 only; without DejaVu, other characters become '?'."""
        text = str(value)
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-12)
        self.font(8)
        self.cell(0, 5, self.text_of(f"{self._run_name} · page {self.page_no()}/{{nb}}"), align="C")


def _heading(pdf: _Protocol, text: str, size: float = 13) -> None:
    pdf.ln(3)
    pdf.font(size, bold=True)
    pdf.multi_cell(0, 7, pdf.text_of(text), new_x="LMARGIN", new_y="NEXT")
    pdf.font(9.5)


def _pairs(pdf: _Protocol, pairs: Sequence[tuple[str, object]]) -> None:
    for label, value in pairs:
        pdf.font(9.5, bold=True)
        pdf.cell(42, 5.5, pdf.text_of(label))
        pdf.font(9.5)
        pdf.multi_cell(0, 5.5, pdf.text_of(value), new_x="LMARGIN", new_y="NEXT")


def _table(
    pdf: _Protocol, headings: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[int]
) -> None:
    pdf.font(8.5)
    with pdf.table(
        col_widths=tuple(widths), headings_style=_HEADINGS, line_height=4.6, text_align="LEFT"
    ) as table:
        for row in [headings, *rows]:
            cells = table.row()
            for value in row:
                cells.cell(pdf.text_of(value))
    pdf.font(9.5)


def _drill(pdf: _Protocol, run: RunRecord, drill: DrillRecord) -> None:
    seconds = formatting.seconds
    _heading(pdf, f"Scenario: {drill.scenario}")
    _pairs(
        pdf,
        [
            ("Scope", ", ".join(drill.scope)),
            ("Objectives", "all met" if drill.objectives_met() else "NOT all met"),
            ("Integrity", "all checks passed" if drill.integrity_ok() else "FAILED"),
            ("Rollback", drill.rollback() or "none"),
            ("Next drill due", formatting.next_drill_due(run, drill) or "not scheduled"),
        ],
    )
    _heading(pdf, "Recovery objectives: target vs achieved", 11)
    rows: list[Sequence[object]] = [
        (
            o.system,
            seconds(o.rto_target_s),
            seconds(o.rto_achieved_s),
            "met" if o.rto_met() else "MISSED",
            seconds(o.rpo_target_s),
            seconds(o.rpo_achieved_s),
            "met" if o.rpo_met() else "MISSED",
        )
        for o in drill.objectives
    ]
    objectives = ("System", "RTO target", "RTO achieved", "", "RPO target", "RPO achieved", "")
    _table(pdf, objectives, rows, (40, 24, 24, 20, 24, 24, 22))
    if drill.phases:
        _heading(pdf, "Timeline", 11)
        rows = [
            (p.name, formatting.moment(p.started_at), seconds(p.duration_s()), p.outcome, p.note)
            for p in drill.phases
        ]
        _table(pdf, ("Phase", "Started", "Took", "Outcome", "Note"), rows, (34, 42, 20, 18, 64))
    if drill.integrity:
        _heading(pdf, "Integrity of the restored data", 11)
        rows = [
            (r.system, r.check, r.expected, r.actual, "passed" if r.passed else "FAILED")
            for r in drill.integrity
        ]
        _table(pdf, ("System", "Check", "Expected", "Actual", "Result"), rows, (28, 50, 40, 40, 20))
    _heading(pdf, "Issues found and corrective actions", 11)
    if drill.issues:
        rows = [
            (i.description, i.severity, i.corrective_action, i.owner, i.due or "", i.ticket)
            for i in drill.issues
        ]
        issues = ("Issue", "Severity", "Corrective action", "Owner", "Due", "Ticket")
        _table(pdf, issues, rows, (46, 20, 50, 22, 22, 18))
    else:
        pdf.multi_cell(0, 5.5, "No issues were recorded.", new_x="LMARGIN", new_y="NEXT")
    _sign_off(pdf, run, drill)


def _sign_off(pdf: _Protocol, run: RunRecord, drill: DrillRecord) -> None:
    _heading(pdf, "Sign-off", 11)
    signers = [("Operator", run.operator, None), *[
        (s.role, s.name, s.signed_at) for s in (drill.sign_off or formatting.DEFAULT_SIGN_OFF)
    ]]  # fmt: skip
    for role, name, signed_at in signers:
        if pdf.will_page_break(22):
            pdf.add_page()
        pdf.ln(12)
        y = pdf.get_y()
        pdf.line(pdf.l_margin, y, pdf.l_margin + 80, y)
        pdf.line(pdf.l_margin + 100, y, pdf.l_margin + 150, y)
        pdf.font(8.5)
        pdf.cell(100, 5, pdf.text_of(f"{role}: {name}"))
        when = formatting.moment(signed_at) if signed_at else "date"
        pdf.cell(0, 5, pdf.text_of(when), new_x="LMARGIN", new_y="NEXT")


def write_drill_pdf(run: RunRecord, run_name: str, catalogue: Catalogue, path: Path) -> None:
    pdf = _Protocol(run_name)
    pdf.set_title(f"DR drill protocol: {run.environment}")
    pdf.set_author(run.operator or "opsproof")
    pdf.set_creator(f"opsproof {run.opsproof_version}")
    pdf.add_page()
    _heading(pdf, f"Disaster-recovery drill protocol — {run.environment}", 16)
    _pairs(
        pdf,
        [
            ("Result", "PASSED" if run.passed else "FAILED"),
            ("Run", run_name),
            ("Started", formatting.moment(run.started_at)),
            ("Finished", formatting.moment(run.finished_at)),
            ("Operator", run.operator or "—"),
            ("Host", run.host or "—"),
            ("Checks", ", ".join(f"{n} {outcome}" for outcome, n in run.totals.items() if n)),
        ],
    )
    for drill in run.drills:
        _drill(pdf, run, drill)
    if run.controls:
        _heading(pdf, "Controls evidenced", 11)
        rows = [(c, catalogue.title(c), v.replace("_", " ")) for c, v in run.controls.items()]
        _table(pdf, ("Control", "Title", "Verdict"), rows, (40, 110, 28))
    _heading(pdf, "Integrity of this record", 11)
    pdf.multi_cell(
        0,
        5,
        pdf.text_of(
            "Every file of this run is listed with its sha256 in manifest.json, chained to the "
            f"previous run and signed when a key is configured. Check: opsproof report verify "
            f"{run_name}"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.output(str(path))
