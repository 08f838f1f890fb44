"""What people open: report.html in a real browser (headless Chromium) renders with no console
error and no external asset, with trends once there is history; the DR protocol PDF renders."""

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

pytest_plugins = ["pytester"]

EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import|url\(\s*["']?(?:https?:)?//""", re.I
)

SECTIONS = (
    "Chaos experiments", "DR drill: PostgreSQL primary lost", "Recovery objectives", "Timeline",
    "Integrity of the restored data", "Sign-off", "Controls", "History of dr runs",
)  # fmt: skip


def _not_blank(png: Path) -> bool:
    """More than a flat page: some real spread of pixel values."""
    with Image.open(png) as image:
        return max(ImageStat.Stat(image.convert("L")).stddev) > 10


@pytest.fixture
def drill_run(lab: Callable[..., Any]) -> Path:
    """The second DR run of the lab, so its report has history and trends."""
    lab("-k", "not render")
    run_dir: Path = lab("-k", "not render").run_dir
    return run_dir


def test_report_html_renders_in_chromium_with_no_console_error(
    drill_run: Path, chromium: Callable[[Path, Path], list[str]], tmp_path: Path
) -> None:
    html = (drill_run / "report.html").read_text()
    assert EXTERNAL.search(html) is None, "report.html must not load anything from outside"
    assert "<script" not in html
    for section in SECTIONS:
        assert section in html
    assert html.count("<svg") >= 3  # the drill timeline and at least two trend charts
    screenshot = tmp_path / "report.png"
    assert chromium(drill_run / "report.html", screenshot) == []
    assert _not_blank(screenshot)


def test_the_console_check_would_catch_an_error(
    chromium: Callable[[Path, Path], list[str]], tmp_path: Path
) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><title>x</title><p>x</p><script>console.error('boom')</script>")
    assert any("boom" in line for line in chromium(page, tmp_path / "broken.png"))


def test_the_dr_protocol_pdf_renders_to_a_non_blank_page(drill_run: Path, tmp_path: Path) -> None:
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(drill_run / "report.pdf"),
         str(tmp_path / "page")],
        check=True, timeout=60,
    )  # fmt: skip
    [page] = tmp_path.glob("page*.png")
    assert _not_blank(page)
    text = subprocess.run(
        ["pdftotext", "-layout", str(drill_run / "report.pdf"), "-"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    for expected in ("Disaster-recovery drill protocol", "PostgreSQL primary lost", "RTO target",
                     "row count of jobs", "Issues found and corrective actions", "Sign-off",
                     "Operator", "Approver", "Next drill due"):  # fmt: skip
        assert expected in text


def test_only_dr_runs_get_a_pdf(lab: Callable[..., Any]) -> None:
    assert not (lab("-k", "cache", kind="gate").run_dir / "report.pdf").exists()
