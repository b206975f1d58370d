"""The optional tables beside a survey batch: ``events``, ``support``, the commune's
``decisions`` and ``communes`` (the report forms' denominators). Each is read from a workbook (its sheet by name, else the first sheet), a CSV or a
Parquet file, with the same header rules and value normalisers as the survey; a bad value is a
row of the errors table (file, sheet, row, column, value, the fix) and that row is not used,
never dropped silently."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from engine.errors import SurveyReadError
from household_models.columns import ColumnSpec, specs_for
from household_models.models import Commune, Decision, Event, Support
from household_models.parse import ERROR_COLUMNS, map_headers
from household_models.readers import (
    SourceTable,
    read_csv,
    read_guarded,
    read_parquet,
    sheet_frame,
)
from household_models.vocab import InvalidValue, format_message, match_key, normalise_scalar

MODELS: dict[str, type] = {"events": Event, "support": Support, "decisions": Decision,
                           "communes": Commune}
SHEETS: dict[str, tuple[str, ...]] = {
    "events": ("events", "bien_dong", "biến động"),
    "support": ("support", "ho_tro", "hỗ trợ"),
    "decisions": ("decisions", "quyet_dinh", "quyết định"),
    "communes": ("communes", "xa", "xã"),
}


@dataclass
class SideTable:
    """The valid rows (canonical values, with ``row``: the file's row number) and the errors."""

    name: str
    file: str
    sheet: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, row: int | None, column: str, value: Any, household_id: str, code: str,
              spec: ColumnSpec | None = None, detail: str = "",
              member_no: Any = None) -> None:  # fmt: skip
        """Add one error row; ``spec`` and ``detail`` fill the message of ``code``."""
        vi, en = format_message(code, spec, value, detail)
        self.errors.append({
            "file": self.file, "sheet": self.sheet, "row": row, "column": column,
            "value": "" if value is None else str(value), "household_id": household_id,
            "member_no": "" if member_no is None else str(member_no), "code": code,
            "message_vi": vi, "message_en": en,
        })  # fmt: skip

    def errors_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.errors, columns=ERROR_COLUMNS)
        frame["row"] = frame["row"].astype("Int64")
        return frame


def _read(path: Path, name: str, specs: tuple[ColumnSpec, ...]) -> SourceTable:
    if not path.is_file():
        raise SurveyReadError(path, "không tìm thấy tệp.", "file not found.")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return read_csv(path)
    if suffix in (".parquet", ".pq"):
        return read_parquet(path)
    if suffix not in (".xlsx", ".xlsm"):
        raise SurveyReadError(path, "bảng phải là .xlsx, .csv hoặc .parquet.",
                              "the table must be .xlsx, .csv or .parquet.")  # fmt: skip

    def sheet_of(p: Path) -> SourceTable:
        import openpyxl

        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        try:
            names = {match_key(n): n for n in wb.sheetnames}
            sheet = next((names[match_key(c)] for c in SHEETS[name] if match_key(c) in names),
                         wb.sheetnames[0])  # fmt: skip
            return sheet_frame(p, wb[sheet], sheet, specs, p.name)
        finally:
            wb.close()

    return read_guarded(path, sheet_of)


def read_side_table(path: Path, name: str) -> SideTable:
    """Read the optional table ``name`` (``MODELS``) from ``path``.
    A required column absent is a ``SurveyReadError`` naming it; every other problem is an
    error row, and the row it is on is left out of ``rows`` (and listed)."""
    specs = specs_for(MODELS[name])
    source = _read(path, name, specs)
    headers = map_headers(source, specs)
    absent = [s for s in specs if s.required == "yes" and s.name not in headers]
    if absent:
        listed = ", ".join(f"{s.vi} ({s.name})" for s in absent)
        raise SurveyReadError(path, f"bảng {name} thiếu cột {listed}.",
                              f"the {name} table lacks the column(s) {listed}.")  # fmt: skip
    table = SideTable(name, source.file, source.sheet)
    frame = source.frame
    cells = {s.name: frame[headers[s.name]].tolist() for s in specs if s.name in headers}
    broken = dict(source.bad_rows)
    for i in range(len(frame)):
        row_no = i + source.first_row
        raw_id = cells["household_id"][i] if "household_id" in cells else None
        hid = "" if raw_id is None else str(raw_id).strip()
        if i in broken:
            table.error(row_no, "", broken[i], hid, "bad_row")
            continue
        if all(v is None or str(v).strip() == "" for v in (c[i] for c in cells.values())):
            continue  # a blank row (Excel keeps formatted empty rows): nothing to record
        record: dict[str, Any] = {"row": row_no}
        ok = True
        for spec in specs:
            if spec.name not in cells:
                record[spec.name] = None
                continue
            raw = cells[spec.name][i]
            try:
                value = normalise_scalar(spec, raw)
            except InvalidValue as exc:
                table.error(row_no, headers[spec.name], raw, hid, exc.code, spec, exc.detail)
                ok = False
                continue
            if value is None and spec.required == "yes":
                table.error(row_no, headers[spec.name], raw, hid, "missing_value", spec)
                ok = False
            record[spec.name] = value
        if ok:
            table.rows.append(record)
    return table
