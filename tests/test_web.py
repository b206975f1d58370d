"""The web page's routes, through the test client: every page and every error, the downloads
against the command line's bytes, the safety rules (token, anti-forgery token, upload limit,
escaping, no names in the logs, files removed when done)."""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.helpers import EXAMPLES, ROOT, run
from tests.web import client, token_of, upload, wait

SURVEY = EXAMPLES / "survey.xlsx"
EXPECTED = pd.read_csv(EXAMPLES / "expected_results.csv")


@pytest.fixture(scope="module")
def classified() -> object:
    with client() as c:
        r = upload(c, [SURVEY])
        assert r.status_code == 303 and r.headers["location"] == "/results", r.text
        yield c


def _text(page: str) -> str:
    import re

    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_the_results_page_shows_errors_first_then_counts_and_the_table(classified) -> None:
    page = classified.get("/results").text
    assert page.index('id="errors"') < page.index('id="counts"') < page.index('id="table"')
    text = _text(page)
    # the example's five input errors, each with file, sheet, row, column, value and the fix
    assert "Lỗi dữ liệu đầu vào (5)" in text
    assert "survey.xlsx ho 12 khu vực miền núi HY-011" in text
    assert "dùng một trong: rural, urban" in text
    # the class counts of the expected results (examples/expected_results.csv)
    counts = EXPECTED["class"].value_counts()
    total = f"Tổng {counts['poor']} {counts['near_poor']} {counts['average']} " \
        f"{counts['not_poor']} {counts['incomplete']} {counts['invalid']} {len(EXPECTED)}"  # fmt: skip
    assert total in text
    assert f"Kết quả ({len(EXPECTED)} hộ)" in text


def test_the_table_filters_searches_and_pages_on_the_server(classified) -> None:
    poor = sorted(EXPECTED.loc[EXPECTED["class"] == "poor", "household_id"])
    fragment = classified.get("/results?class=poor", headers={"HX-Request": "true"}).text
    assert fragment.startswith('<section id="table">')  # htmx gets the table alone
    shown = sorted(set(pd.Series(fragment.split('href="/household/')[1:]).str.split('"').str[0]))
    assert shown == poor
    one = _text(classified.get("/results?q=hy-01&district=Yên Mỹ").text)
    assert "Kết quả (2 hộ)" in one  # HY-012, HY-013
    water = classified.get("/results?deprivation=water.source", headers={"HX-Request": "1"}).text
    deprived = EXPECTED["deprived"].fillna("").str.contains("water.source")
    assert f"Kết quả ({int(deprived.sum())} hộ)" in _text(water)
    loans = classified.get("/results?action=credit.vbsp_poor", headers={"HX-Request": "1"}).text
    assert f"Kết quả ({len(poor)} hộ)" in _text(loans)
    assert "Trang 1/1" in _text(classified.get("/results?page=abc").text)


def test_the_downloads_are_the_command_lines_bytes(classified, tmp_path: Path) -> None:
    out = tmp_path / "x.xlsx"
    code, text = run("classify", str(SURVEY), "-o", str(out), "--as-of", "2025-06-30")
    assert code == 0, text
    got = classified.get("/download/results.xlsx")
    assert got.status_code == 200 and got.content == out.read_bytes()
    errors = openpyxl.load_workbook(io.BytesIO(classified.get("/download/errors.xlsx").content))
    assert errors["errors"].max_row == 6  # the header and five errors
    template = tmp_path / "t.xlsx"
    assert run("template", "-o", str(template))[0] == 0
    assert classified.get("/template.xlsx").content == template.read_bytes()
    assert classified.get("/download/other.xlsx").status_code == 404


def test_one_household_is_explained_as_explain_does(classified, tmp_path: Path) -> None:
    page = classified.get("/household/HY-001").text
    assert 'src="/household/HY-001/explain.html"' in page
    out = tmp_path / "e.html"
    code, text = run("explain", str(SURVEY), "--household", "HY-001", "--as-of", "2025-06-30",
                     "--format", "html", "-o", str(out))  # fmt: skip
    assert code == 0, text
    assert classified.get("/household/HY-001/explain.html").text == out.read_text("utf-8")
    assert classified.get("/household/NOPE/explain.html").status_code == 404
    assert classified.get("/household?id=HY-002", follow_redirects=False).headers[
        "location"] == "/household/HY-002"  # fmt: skip


def test_a_scenario_gives_the_simulate_report_and_workbook(classified, tmp_path: Path) -> None:
    listed = classified.get("/scenarios").text
    assert "rural_line_1800k.yaml" in listed
    r = classified.post("/scenarios", data={"csrf": token_of(classified),
                                            "scenario": "rural_line_1800k.yaml"},
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert wait(classified, r.headers["location"]).headers["location"] == "/scenarios"
    scenario = ROOT / "rules" / "scenarios" / "rural_line_1800k.yaml"
    for suffix in ("html", "xlsx"):
        out = tmp_path / f"report.{suffix}"
        code, text = run("simulate", str(SURVEY), "--scenario", str(scenario), "--as-of",
                         "2025-06-30", "-o", str(out))  # fmt: skip
        assert code == 0, text
        got = classified.get("/scenarios/report.html" if suffix == "html" else
                             "/scenarios/scenarios.xlsx")  # fmt: skip
        assert got.content == out.read_bytes(), suffix
    assert "<svg" in classified.get("/scenarios/report.html").text
    none = classified.post("/scenarios", data={"csrf": token_of(classified)})
    assert none.status_code == 400 and "ít nhất một kịch bản" in _text(none.text)


def test_a_parquet_pair_with_english_headers(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    code, text = run("sample", "-o", str(out), "--households", "300", "--seed", "2",
                     "--year", "2025")  # fmt: skip
    assert code == 0, text
    with client() as c:
        r = upload(c, [out, tmp_path / "s.members.parquet"], as_of="2025-10-15")
        assert r.status_code == 303, r.text
        page = _text(c.get("/results").text)
        assert "Kết quả (300 hộ)" in page and "Tổng" in page
        first = c.get("/results?page=2", headers={"HX-Request": "1"}).text
        assert "Trang 2/6" in _text(first) and first.count('href="/household/') == 50


def test_english_switch(classified) -> None:
    r = classified.post("/lang", data={"csrf": token_of(classified), "lang": "en",
                                       "next": "/results"})  # fmt: skip
    assert r.status_code == 200 and "Input errors (5)" in _text(r.text)
    assert "Households by class and district" in r.text
    r = classified.post("/lang", data={"csrf": token_of(classified), "lang": "vi",
                                       "next": "//evil.example"})  # fmt: skip
    assert r.url.path == "/" and "Phân loại" in r.text


def test_bad_requests_get_clear_pages_never_a_stack_trace(tmp_path: Path) -> None:
    with client(max_upload_mb=1) as c:
        assert c.post("/classify", data={"as_of": "2025-06-30"}).status_code == 403
        csrf = token_of(c)
        bad = c.post("/classify", data={"csrf": csrf, "as_of": "30/06/2025"},
                     files=[("files", ("a.xlsx", b"x", "application/octet-stream"))])  # fmt: skip
        assert bad.status_code == 400 and "30/06/2025" in bad.text
        wrong = c.post("/classify", data={"csrf": csrf, "as_of": "2025-06-30"},
                       files=[("files", ("a.txt", b"x", "text/plain"))])  # fmt: skip
        assert wrong.status_code == 400 and "a.txt" in wrong.text
        big = c.post("/classify", data={"csrf": csrf, "as_of": "2025-06-30"},
                     files=[("files", ("a.csv", b"x" * 1_100_000, "text/csv"))])  # fmt: skip
        assert big.status_code == 413 and "1 MB" in big.text
        garbage = tmp_path / "hong.xlsx"
        garbage.write_bytes(b"not a workbook")
        failed = upload(c, [garbage])
        code, cli_text = run("classify", str(garbage), "--as-of", "2025-06-30", "-o",
                             str(tmp_path / "r.xlsx"))  # fmt: skip
        assert code == 2
        # the command line's message (Vietnamese, then English), naming the file as uploaded
        first, second = (line.replace(str(garbage), garbage.name)
                         for line in cli_text.strip().splitlines()[:2])  # fmt: skip
        assert failed.status_code == 200 and 'id="job-error"' in failed.text
        assert first in _text(failed.text) and second in _text(failed.text)
        assert str(c.app_state.root) not in failed.text
        assert "Traceback" not in failed.text
        assert c.get("/jobs/unknown").status_code == 404
        assert c.get("/nowhere").status_code == 404
        assert "Chưa có đợt dữ liệu" in c.get("/results").text
        assert c.get("/household/HY-001/explain.html").status_code == 404
        assert "giamngheo serve --registry" in c.get("/registry").text


def test_a_token_is_needed_beyond_this_machine() -> None:
    with client(token="s3cret") as c:
        assert c.get("/").status_code == 401
        assert c.get("/?token=wrong").status_code == 401
        assert c.get("/?token=s3cret").status_code == 200  # sets the cookie
        assert c.get("/results").status_code == 200  # the cookie carries it
        c.cookies.clear()
        assert c.get("/results").status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_uploaded_values_are_escaped_in_the_page_and_the_downloads(tmp_path: Path,
                                                                     caplog, capfd) -> None:  # fmt: skip
    hh = pd.read_csv(EXAMPLES / "households.csv", dtype=str, keep_default_na=False)
    mem = pd.read_csv(EXAMPLES / "members.csv", dtype=str, keep_default_na=False)
    hh.loc[0, "họ tên chủ hộ"] = "<script>alert('tên')</script>"
    hh.loc[0, "xã"] = '=HYPERLINK("http://example.com","bấm")'
    hh.loc[1, "huyện"] = "<img src=x onerror=alert(1)>"
    mem.loc[0, "họ tên"] = "Nguyễn Văn Bí Mật"
    paths = [tmp_path / "households.csv", tmp_path / "members.csv"]
    hh.to_csv(paths[0], index=False)
    mem.to_csv(paths[1], index=False)
    caplog.set_level(logging.DEBUG)
    with client() as c:
        r = upload(c, paths)
        assert r.status_code == 303, r.text
        page = c.get("/results").text + c.get("/results?q=HY-002").text
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "=HYPERLINK(&#34;http://example.com&#34;,&#34;bấm&#34;)" in page or \
            "=HYPERLINK(&quot;http://example.com&quot;,&quot;bấm&quot;)" in page  # fmt: skip
        book = openpyxl.load_workbook(io.BytesIO(c.get("/download/results.xlsx").content))
        sheet = book["results"]
        cells = [cell for row in sheet.iter_rows() for cell in row
                 if isinstance(cell.value, str) and cell.value.startswith("=HYPERLINK")]  # fmt: skip
        assert cells and all(cell.data_type == "s" for cell in cells)  # text, never a formula
        explained = c.get("/household/HY-001/explain.html").text
        assert "<script>alert" not in explained
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    for name in ("Nguyễn Văn Bí Mật", "alert('tên')"):
        assert name not in logged


def test_done_removes_the_visits_files(tmp_path: Path) -> None:
    with client() as c:
        assert upload(c, [SURVEY]).status_code == 303
        state = c.app_state
        root = state.root
        folders = [v.folder for v in state.visits.values()]
        assert folders and all(f.exists() for f in folders)
        assert any((f / "upload" / "survey.xlsx").exists() for f in folders)
        assert oct(root.stat().st_mode & 0o777) == "0o700"
        r = c.post("/done", data={"csrf": token_of(c)})
        assert r.status_code == 200 and "Đã xóa các tệp" in r.text
        assert not any(f.exists() for f in folders)  # the visit's uploads and results
        assert c.get("/download/results.xlsx").status_code == 404
    assert not root.exists()  # the server stopped: every upload is gone


def test_the_registry_and_reports_pages(tmp_path: Path) -> None:
    from tests.rounds import three_rounds

    made = three_rounds(tmp_path / "rounds")
    reg = made["reg"]
    with client(registry=reg) as c:
        page = _text(c.get("/registry").text)
        assert "2023" in page and "2025" in page and "Đã khóa" in page
        history = _text(c.get("/household/T-03").text)
        from engine import default_rulebook

        r = default_rulebook().resolve(dt.date(2025, 10, 15))
        loan = next(a.label["vi"] for a, _ in r.interventions if a.id == "credit.vbsp_poor")
        assert "tái nghèo" in history and "Hộ nghèo" in history and loan in history
        assert "credit.vbsp_poor" not in history  # labels, not codes
        r = c.post("/registry/verify", data={"csrf": token_of(c)})
        assert "Sổ toàn vẹn" in _text(r.text)
        forms = c.get("/reports/forms/2025.xlsx")
        assert forms.status_code == 200
        sheets = openpyxl.load_workbook(io.BytesIO(forms.content), read_only=True).sheetnames
        assert "checks" in sheets or any("kiểm tra" in s.lower() for s in sheets)
        plan = c.get("/reports/plan.html").text
        assert "Theo dõi thực hiện kế hoạch giảm nghèo" in plan
        assert c.get("/reports/plan.xlsx").status_code == 200
        # an earlier round still open: recording 2026 is refused with the CLI's message
        assert upload(c, [SURVEY], as_of="2026-10-15").status_code == 303
        r = c.post("/registry/record", data={"csrf": token_of(c), "round": "2026"},
                   follow_redirects=False)  # fmt: skip
        refused = wait(c, r.headers["location"])
        assert "close it (giamngheo review close)" in _text(refused.text)
        r = c.post("/registry/close", data={"csrf": token_of(c), "round": "2025"})
        assert "Đã khóa kỳ 2025" in _text(r.text)
        # then the example is recorded into round 2026, and closed
        r = c.post("/registry/record", data={"csrf": token_of(c), "round": "2026"},
                   follow_redirects=False)  # fmt: skip
        done = wait(c, r.headers["location"])
        assert done.headers.get("location") == "/registry", done.text
        page = _text(c.get("/registry").text)
        assert "Đã ghi kỳ 2026" in page
        r = c.post("/registry/close", data={"csrf": token_of(c), "round": "2026"})
        assert "Đã khóa kỳ 2026" in _text(r.text)
        again = c.post("/registry/close", data={"csrf": token_of(c), "round": "2026"})
        assert again.status_code == 400 and "2026" in _text(again.text)
        assert "Sổ toàn vẹn" in _text(c.post("/registry/verify", data={"csrf": token_of(c)}).text)
        assert c.get("/reports/forms/batch.xlsx").status_code == 200
        read = _text(c.get("/reports/forms/2025").text)  # the forms read on the page too
        assert "01. Tổng hợp kết quả chính thức rà soát hộ nghèo" in read
        assert "Tổng số hộ dân cư" in read and "15. " in read


def test_serve_needs_a_token_beyond_this_machine(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    started: list[object] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: started.append(self.config.app))
    code, text = run("serve", "--no-browser")
    assert code == 0 and "http://127.0.0.1:8765/ " in text and "token" not in text
    code, text = run("serve", "--no-browser", "--host", "0.0.0.0", "--port", "9000")
    assert code == 0 and "http://127.0.0.1:9000/?token=" in text
    token = text.split("?token=")[1].split()[0]
    assert len(token) >= 24
    secret = tmp_path / "t"
    secret.write_text("office-token-123\n", "utf-8")
    code, text = run("serve", "--no-browser", "--host", "0.0.0.0", "--token-file", str(secret))
    assert code == 0 and "?token=office-token-123 " in text
    app = started[-1]
    assert app.state.web.settings.token == "office-token-123"  # type: ignore[attr-defined]
