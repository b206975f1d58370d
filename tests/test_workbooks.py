"""Workbooks as commune offices make them classify exactly like the clean example workbook:
title rows, capitalised and wrapped headers, STT, a two-row header with merged group cells,
cells merged down a data column, a stored dimension smaller than the data."""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from engine import classify, default_rulebook
from household_models import parse_batch, read_survey
from tests.helpers import AS_OF, EXAMPLES, run

COMPARED = ["household_id", "class", "deprivation_count", "statuses", "recommendations", "missing"]
HOUSING = ["khung cột bền chắc", "tường bền chắc", "mái bền chắc", "diện tích nhà ở"]


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    read = lambda name: pd.read_csv(EXAMPLES / name, dtype=str, keep_default_na=False,  # noqa: E731
                                    encoding="utf-8-sig")  # fmt: skip
    return read("households.csv"), read("members.csv")


def classified(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = classify(parse_batch(read_survey([path])), default_rulebook(), AS_OF)
    results = result.results.rename(columns={"mã hộ": "household_id", "Mã Hộ": "household_id"})
    return results[COMPARED].astype(str).reset_index(drop=True), result.errors


def write(path: Path, sheets: dict[str, tuple[list[list[Any]], list[str]]]) -> Path:
    """A workbook from rows per sheet, with the given merged ranges."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (rows, merges) in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append([None if v == "" else v for v in row])
        for ref in merges:
            ws.merge_cells(ref)
    wb.save(path)
    return path


def table(frame: pd.DataFrame, header: list[str] | None = None) -> list[list[Any]]:
    return [header or list(frame.columns), *frame.to_numpy().tolist()]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    hh, mem = frames()
    path = write(tmp_path_factory.mktemp("clean") / "clean.xlsx",
                 {"ho": (table(hh), []), "thanh_vien": (table(mem), [])})  # fmt: skip
    results, _ = classified(path)
    assert len(results) == 18
    return results


def variant_title_rows(hh: pd.DataFrame, mem: pd.DataFrame) -> dict[str, Any]:
    titles = [["UBND XÃ PHÙNG HƯNG"], ["DANH SÁCH HỘ GIA ĐÌNH RÀ SOÁT NĂM 2025"], []]
    return {"ho": (titles + table(hh), ["A2:H2"]), "thanh_vien": (titles[:2] + table(mem), [])}


def variant_headers(hh: pd.DataFrame, mem: pd.DataFrame) -> dict[str, Any]:
    def spell(name: str) -> str:
        if name == "thu nhập bình quân":
            return "Thu nhập\nbình quân"  # wrapped with Alt+Enter
        return " ".join(w.capitalize() for w in name.split()) + "  "

    members = [("STT" if c == "stt" else spell(c)) for c in mem.columns]
    return {"ho": (table(hh, [spell(c) for c in hh.columns]), []),
            "thanh_vien": (table(mem, members), [])}  # fmt: skip


def variant_two_row_header(hh: pd.DataFrame, mem: pd.DataFrame) -> dict[str, Any]:
    from openpyxl.utils import get_column_letter

    columns = list(hh.columns)
    top, bottom, merges = [], [], []
    for j, name in enumerate(columns):
        letter = get_column_letter(j + 1)
        if name in HOUSING:
            top.append("Nhà ở" if name == HOUSING[0] else "")
            bottom.append(name)
        else:
            top.append(name)
            bottom.append("")
            merges.append(f"{letter}1:{letter}2")
    first = get_column_letter(columns.index(HOUSING[0]) + 1)
    last = get_column_letter(columns.index(HOUSING[-1]) + 1)
    merges.append(f"{first}1:{last}1")
    rows = [top, bottom, *hh.to_numpy().tolist()]
    return {"ho": (rows, merges), "thanh_vien": (table(mem), [])}


def variant_merged_data(hh: pd.DataFrame, mem: pd.DataFrame) -> dict[str, Any]:
    """The district cell merged down over households of the same district that follow."""
    from openpyxl.utils import get_column_letter

    column = list(hh.columns).index("huyện")
    letter = get_column_letter(column + 1)
    rows = table(hh)
    merges = []
    start = 1
    for i in range(2, len(rows) + 1):
        if i == len(rows) or rows[i][column] != rows[start][column]:
            if i - start > 1:
                merges.append(f"{letter}{start + 1}:{letter}{i}")
                for k in range(start + 1, i):
                    rows[k][column] = ""  # as Excel keeps only the top-left value
            start = i
    assert merges, "the example has consecutive households of one district"
    return {"ho": (rows, merges), "thanh_vien": (table(mem), [])}


VARIANTS: dict[str, Callable[[pd.DataFrame, pd.DataFrame], dict[str, Any]]] = {
    "title rows": variant_title_rows,
    "capital and wrapped headers, STT": variant_headers,
    "two-row header with a merged group cell": variant_two_row_header,
    "district merged down the column": variant_merged_data,
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_office_workbooks_classify_like_the_clean_one(name: str, clean: pd.DataFrame,
                                                      tmp_path: Path) -> None:  # fmt: skip
    hh, mem = frames()
    path = write(tmp_path / "variant.xlsx", VARIANTS[name](hh, mem))
    results, errors = classified(path)
    pd.testing.assert_frame_equal(results, clean)
    codes = set(errors["code"])
    if name == "title rows":
        assert "title_rows_skipped" in codes
        assert errors.loc[errors["code"] == "title_rows_skipped", "value"].iloc[0] == "1, 2"
    if name.startswith("two-row"):
        assert "header_rows_combined" in codes
    if name.startswith("district"):
        filled = errors[errors["code"] == "merged_cells_filled"]
        assert len(filled) >= 1 and filled["value"].str.match(r"^C\d+:C\d+$").all()
        assert filled["message_vi"].str.contains("được gộp").all()


def test_a_stored_dimension_smaller_than_the_data(clean: pd.DataFrame, tmp_path: Path) -> None:
    hh, mem = frames()
    path = write(tmp_path / "full.xlsx", {"ho": (table(hh), []), "thanh_vien": (table(mem), [])})
    short = tmp_path / "short.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(short, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]+"/>', b'<dimension ref="A1:C9"/>', data)
            dst.writestr(item, data)
    results, _ = classified(short)
    pd.testing.assert_frame_equal(results, clean)


def test_ids_that_differ_only_in_leading_zeros(tmp_path: Path) -> None:
    hh, mem = frames()
    hh = hh.head(2).copy()
    mem = mem[mem["mã hộ"].isin(hh["mã hộ"])].copy()
    hh["mã hộ"] = [1, 2]  # typed as numbers
    mem["mã hộ"] = mem["mã hộ"].map({"HY-001": "001", "HY-002": "002"})  # text with zeros
    path = write(tmp_path / "ids.xlsx", {"ho": (table(hh), []), "thanh_vien": (table(mem), [])})
    _, errors = classified(path)
    mismatch = errors[errors["code"] == "id_format_mismatch"]
    assert len(mismatch) == len(mem)
    assert mismatch["message_en"].str.contains("leading zeros").all()
    assert set(mismatch["value"]) == {"001", "002"}


def test_a_missing_required_column_names_the_closest_header(tmp_path: Path) -> None:
    hh, mem = frames()
    hh = hh.rename(columns={"mã hộ": "Mã số hộ"})
    path = write(tmp_path / "x.xlsx", {"ho": (table(hh), []), "thanh_vien": (table(mem), [])})
    code, out = run("classify", str(path), "-o", str(tmp_path / "r.xlsx"), "--as-of",
                    "2025-06-30")  # fmt: skip
    assert code == 2 and "Did you mean the column 'Mã số hộ'?" in out, out


def test_two_files_of_one_name_in_two_folders(tmp_path: Path) -> None:
    for folder, name in (("households", "households.csv"), ("members", "members.csv")):
        (tmp_path / folder).mkdir()
        shutil.copy(EXAMPLES / name, tmp_path / folder / "batch.csv")
    batch = parse_batch(read_survey([tmp_path / "households" / "batch.csv",
                                     tmp_path / "members" / "batch.csv"]))  # fmt: skip
    result = classify(batch, default_rulebook(), AS_OF)
    assert len(result.results) == 18
    files = set(result.errors["file"])
    assert files <= {str(tmp_path / "households" / "batch.csv"),
                     str(tmp_path / "members" / "batch.csv")}, files  # fmt: skip
    assert (result.results["class"] == "invalid").sum() == 3  # as the example has


def test_dates_as_offices_write_them(tmp_path: Path) -> None:
    code, out = run("classify", str(EXAMPLES / "survey.xlsx"), "-o", str(tmp_path / "r.xlsx"),
                    "--as-of", "30/06/2025", "--verify", "0")  # fmt: skip
    assert code == 0, out
    from household_models.vocab import parse_date

    assert str(parse_date(45838)) == "2025-06-30"  # an Excel serial date
    assert str(parse_date("45838")) == "2025-06-30"
