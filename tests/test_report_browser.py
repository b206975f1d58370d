"""The HTML simulation report rendered by a real browser: headless Chromium (Debian's package)
takes a screenshot, which must show the page and its charts.

Skipped when Chromium is not installed, unless GIAMNGHEO_REQUIRE_BROWSER=1 (CI sets it and
installs the package), in which case a missing browser fails the test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine import default_rulebook
from engine.files import write_text
from engine.simulation.report import COLOURS, render_report_html
from engine.simulation.scenario import load_scenario
from engine.simulation.simulate import simulate
from tests.browser import colour_pixels, screenshot
from tests.helpers import AS_OF, EXAMPLES, ROOT


def test_the_report_renders_with_its_charts_in_headless_chromium(tmp_path: Path) -> None:
    book = default_rulebook()
    shipped = [load_scenario(p, book) for p in sorted((ROOT / "rules" / "scenarios").glob("*.yaml"))]
    sim = simulate(EXAMPLES / "survey.xlsx", shipped, AS_OF, book=book)
    page = tmp_path / "report.html"
    write_text(page, render_report_html(sim, "vi"))
    pixels = screenshot(page, tmp_path / "shot.png", 1100, 9000)
    assert pixels.shape[:2] == (9000, 1100)
    ink = (pixels < 235).any(axis=2)  # anything darker than the white page
    assert ink.mean() > 0.02, f"the page looks blank: {ink.mean():.4f} of the pixels are ink"
    # The rows carry text and drawing from the top to well down the page (charts, tables).
    rows_with_ink = np.flatnonzero(ink.any(axis=1))
    assert rows_with_ink[0] < 100 and rows_with_ink[-1] > 3000
    # Each series of the bar charts is drawn in its own colour: the baseline and the first
    # scenarios' bars must be on screen as solid areas (a bar is 11 px high).
    for colour in COLOURS[:5]:
        assert colour_pixels(pixels, colour) > 1500, colour
    # The transition heat maps: the unchanged diagonal cells are grey and fill whole cells.
    greys = ((pixels[:, :, 0] == pixels[:, :, 1]) & (pixels[:, :, 1] == pixels[:, :, 2])
             & (pixels[:, :, 0] > 120) & (pixels[:, :, 0] < 235))  # fmt: skip
    assert greys.sum() > 20_000


def test_a_blank_page_fails_the_same_checks(tmp_path: Path) -> None:
    """The checks above can fail: an empty page gives no ink and none of the chart colours."""
    page = tmp_path / "blank.html"
    write_text(page, "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body></body></html>")
    pixels = screenshot(page, tmp_path / "blank.png", 600, 400)
    assert (pixels < 235).any(axis=2).mean() == 0
    assert all(colour_pixels(pixels, colour) == 0 for colour in COLOURS)
