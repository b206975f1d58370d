"""The web page in a real browser: Debian's Chromium driven by Playwright (its executable
path given; nothing downloads a browser), against a uvicorn server on 127.0.0.1. A new user's
path: open the page, upload the example, read the class counts, filter to the poor, open one,
read its explanation, download the results (the command line's bytes), switch to English,
run a scenario and see its charts; screenshots are checked for what they show."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from engine.simulation.report import COLOURS
from tests.browser import chromium, colour_pixels
from tests.helpers import EXAMPLES, run
from tests.web import server

ACCENT = "#b91c1c"  # the page's red: the active tab, the buttons, the headings


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    path = chromium()  # skips without Chromium, fails in CI (GIAMNGHEO_REQUIRE_BROWSER=1)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=["--no-sandbox",
                                                                  "--disable-gpu"])  # fmt: skip
        yield launched
        launched.close()


def test_a_new_user_classifies_explains_downloads_and_runs_a_scenario(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    expected = pd.read_csv(EXAMPLES / "expected_results.csv")
    poor = sorted(expected.loc[expected["class"] == "poor", "household_id"])
    with server() as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page.goto(url + "/")
        assert page.locator("h1").inner_text() == "Phân loại hộ nghèo, hộ cận nghèo"
        shot = _pixels(page.screenshot())
        assert colour_pixels(shot, ACCENT) > 500  # the header rule and the button are drawn
        page.set_input_files("#files", str(EXAMPLES / "survey.xlsx"))
        page.fill("#as_of", "2025-06-30")
        page.click("#run-classify")
        page.wait_for_url("**/results", timeout=120_000)
        # the input errors come first, then the counts of the expected results
        assert "Lỗi dữ liệu đầu vào (5)" in page.locator("#errors h2").inner_text()
        totals = page.locator("#counts tr.total td").all_inner_texts()
        counts = expected["class"].value_counts()
        assert totals == ["Tổng", *(str(counts[c]) for c in ("poor", "near_poor", "average",
                                                            "not_poor", "incomplete",
                                                            "invalid")), str(len(expected))]
        page.screenshot(path=str(tmp_path / "results.png"), full_page=True)
        # filter to the poor (htmx swaps the table in place)
        page.select_option("#f-class", "poor")
        page.wait_for_function("document.querySelectorAll('table.results tbody tr').length == "
                               f"{len(poor)}")  # fmt: skip
        ids = sorted(page.locator("table.results tbody tr td:first-child").all_inner_texts())
        assert ids == poor and "class=poor" in page.url
        shot = _pixels(page.screenshot(full_page=True))
        assert colour_pixels(shot, ACCENT) > 200  # the poor households' class, in red
        # open one: its explanation
        page.click(f"text={poor[0]}")
        page.wait_for_url(f"**/household/{poor[0]}")
        frame = page.frame_locator("#explanation")
        assert "Phân loại: Hộ nghèo" in frame.locator("body").inner_text(timeout=30_000)
        page.screenshot(path=str(tmp_path / "household.png"), full_page=True)
        # download the results: the bytes of giamngheo classify -o
        page.goto(url + "/results")
        with page.expect_download() as got:
            page.click("#results-download")
        downloaded = tmp_path / "page.xlsx"
        got.value.save_as(downloaded)
        cli = tmp_path / "cli.xlsx"
        assert run("classify", str(EXAMPLES / "survey.xlsx"), "-o", str(cli), "--as-of",
                   "2025-06-30")[0] == 0  # fmt: skip
        assert downloaded.read_bytes() == cli.read_bytes()
        # English
        page.click("#switch-lang")
        page.wait_for_load_state()
        assert "Input errors (5)" in page.locator("#errors h2").inner_text()
        assert page.locator("html").get_attribute("lang") == "en"
        # a scenario, with its charts
        page.goto(url + "/scenarios")
        page.check("input[value='rural_line_1800k.yaml']")
        page.click("#run-scenarios")
        page.wait_for_url("**/scenarios", timeout=120_000)
        report = page.frame_locator("#scenario-report")
        assert report.locator("svg").count() > 0
        page.locator("#scenario-report").scroll_into_view_if_needed()
        shot = _pixels(page.screenshot(full_page=True))
        page.screenshot(path=str(tmp_path / "scenario.png"), full_page=True)
        assert colour_pixels(shot, COLOURS[0]) > 100 and colour_pixels(shot, COLOURS[1]) > 100
        page.close()
