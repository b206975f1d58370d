"""Outputs never hurt their reader or lose a row: a fuzz test over every text column and every
output format (CSV, XLSX, Parquet) finds no crash, no lost household and no formula cell; a
chunked run into a folder that does not exist yet; files with the user's umask."""

from __future__ import annotations

import csv
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import classify, default_rulebook, write_result
from engine.files import FORMULA_START, clean_text, csv_safe
from engine.golden import frames
from household_models import parse_batch
from household_models.readers import RawBatch, SourceTable
from tests.helpers import AS_OF, EXAMPLES, run

BATCHES = 60  # generated batches, each written as CSV, XLSX and Parquet
NASTY = ["=HYPERLINK(\"http://x\",\"y\")", "=cmd|' /c calc'!A0", "+1+1", "-2+3", "@SUM(A1)",
         "\tTab", "\rCR", "a\rb", "a\nb", "a\r\nb", "\"quoted\"", "semi;colon", "x\x00y", "\x07bell",
         "Nguyễn Văn Ẩn", "=1+1", "'=already"]  # fmt: skip
texts = st.one_of(st.sampled_from(NASTY), st.text(max_size=12),
                  st.text(alphabet=st.sampled_from("=+-@\t\r\n\x0b\x1f aăbĐ;,\""), max_size=8))


@st.composite
def batches(draw: Any) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 4))
    out = []
    for i in range(n):
        household = {"household_id": f"{draw(texts)}#{i}", "head_name": draw(texts),
                     "commune": draw(texts), "district": draw(texts), "ghi chú": draw(texts)}  # fmt: skip
        members = [{"name": draw(texts)} for _ in range(draw(st.integers(1, 3)))]
        out.append({"household": household, "members": members})
    return out


def _all_cells_safe_in_csv(path: Path) -> None:
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.reader(f):
            for cell in row:
                assert not cell.startswith(FORMULA_START), (path.name, cell)


@settings(max_examples=BATCHES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_no_crash_no_lost_household_no_formula(cases: list[dict[str, Any]]) -> None:
    hh, mem = frames(cases)
    raw = RawBatch(SourceTable(hh, "households", "", 2), SourceTable(mem, "members", "", 2))
    result = classify(parse_batch(raw), default_rulebook(), AS_OF)
    assert len(result.results) == len(cases)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_result(result, folder / "r.xlsx")
        wb = openpyxl.load_workbook(folder / "r.xlsx")
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
        assert wb["results"].max_row == len(cases) + 1
        ids = [clean_text(str(v)) for v in result.results["household_id"]]
        column = next(c.column for c in wb["results"][1] if c.value == "household_id")
        got = [wb["results"].cell(row=r, column=column).value for r in range(2, len(cases) + 2)]
        assert [g or "" for g in got] == ids
        recs = wb["recommendations"].max_row - 1
        assert recs == len(result.recommendations)
        for suffix in (".csv", ".parquet"):
            written = write_result(result, folder / f"r{suffix}")
            for path in written:
                if suffix == ".csv":
                    _all_cells_safe_in_csv(path)
            back = (pd.read_csv(folder / "r.csv", dtype=str, keep_default_na=False,
                                encoding="utf-8-sig") if suffix == ".csv"
                    else pd.read_parquet(folder / "r.parquet"))  # fmt: skip
            assert len(back) == len(cases), suffix
            expected = [csv_safe(str(v)) if suffix == ".csv" else v
                        for v in result.results["household_id"]]  # fmt: skip
            assert list(back["household_id"]) == expected, suffix


def test_a_formula_is_text_in_xlsx_and_quoted_in_csv(tmp_path: Path) -> None:
    hh, mem = frames([{"household": {"head_name": "=HYPERLINK(\"http://x\",\"y\")"}}])
    raw = RawBatch(SourceTable(hh, "households", "", 2), SourceTable(mem, "members", "", 2))
    result = classify(parse_batch(raw), default_rulebook(), AS_OF)
    write_result(result, tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["results"]
    column = next(c.column for c in ws[1] if c.value == "head_name")
    cell = ws.cell(row=2, column=column)
    assert cell.value == "=HYPERLINK(\"http://x\",\"y\")" and cell.data_type == "s"
    write_result(result, tmp_path / "r.csv")
    back = pd.read_csv(tmp_path / "r.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert back.loc[0, "head_name"] == "'=HYPERLINK(\"http://x\",\"y\")"


def test_outputs_follow_the_umask(tmp_path: Path) -> None:
    code, out = run("classify", str(EXAMPLES / "survey.xlsx"), "-o", str(tmp_path / "r.csv"),
                    "--as-of", "2025-06-30", "--verify", "0")  # fmt: skip
    assert code == 0, out
    mask = os.umask(0)
    os.umask(mask)
    for path in tmp_path.glob("r*.csv"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path


def test_chunks_into_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    code, out = run("sample", "-o", str(tmp_path / "s.parquet"), "--households", "1200")
    assert code == 0, out
    target = tmp_path / "new" / "deeper" / "r.parquet"
    code, out = run("classify", str(tmp_path / "s.parquet"), str(tmp_path / "s.members.parquet"),
                    "-o", str(target), "--as-of", "2025-06-30", "--chunk-size", "1000",
                    "--verify", "0")  # fmt: skip
    assert code == 0, out
    assert len(pd.read_parquet(target)) == 1200
