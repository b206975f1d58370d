"""Readers for a survey batch: an Excel workbook, a CSV pair or a Parquet pair.

Readers keep every cell as read (no type coercion for CSV and Excel) so that the parser can name
the exact value that failed, and remember where each row came from (file, sheet, row number).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from engine.errors import SurveyReadError
from household_models.columns import ColumnSpec
from household_models.schema import HOUSEHOLD_SPECS, MEMBER_SPECS
from household_models.sheets import Note, layout, merged_ranges
from household_models.vocab import match_key, messages

T = TypeVar("T")

# Limits of an input, checked before it is read (docs/input-format.md).
MAX_INPUT_BYTES = 2_000_000_000  # one input file
MAX_COLUMNS = 1_000  # columns of one table
MAX_SHEET_BYTES = 1_000_000_000  # one worksheet once decompressed (a zip bomb is refused)

HOUSEHOLD_SHEETS = ("households", "ho", "hộ")
MEMBER_SHEETS = ("members", "thanh_vien", "thành viên", "thanh vien", "thành_viên")
MEMBER_MARKERS = ("member_no", "stt")


@dataclass
class SourceTable:
    """One table as read, with where it came from."""

    frame: pd.DataFrame
    file: str
    sheet: str
    first_row: int  # the file's row number of frame's first data row (1-based)
    notes: list[Note] = field(default_factory=list)  # what the reader did (title rows, merges)
    bad_rows: list[tuple[int, str]] = field(default_factory=list)  # rows not split into cells


@dataclass
class RawBatch:
    households: SourceTable
    members: SourceTable


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SurveyReadError(
            path,
            f"dòng {line}: tệp không phải mã UTF-8. Trong Excel hãy lưu bằng "
            "'CSV UTF-8 (phân cách bằng dấu phẩy)'.",
            f"line {line}: the file is not UTF-8. In Excel save it as 'CSV UTF-8 (Comma delimited)'.",
        ) from None


def _csv_unreadable(path: Path, exc: BaseException) -> SurveyReadError:
    return SurveyReadError(path, f"không đọc được tệp CSV ({exc}). Kiểm tra dấu phân cách và "
                           "dấu ngoặc kép.", f"cannot parse the CSV ({exc}). Check the delimiter "
                           "and the quotes.")  # fmt: skip


def read_csv(path: Path, name: str | None = None) -> SourceTable:
    text = _decode(path)
    first_line = text.split("\n", 1)[0]
    sep = ";" if first_line.count(";") > first_line.count(",") else ","
    if first_line.count(sep) >= MAX_COLUMNS:
        raise SurveyReadError(path, f"dòng tiêu đề có hơn {MAX_COLUMNS:,} cột; kiểm tra dấu "
                              "phân cách.", f"the header row has more than {MAX_COLUMNS:,} "
                              "columns; check the delimiter.")  # fmt: skip
    bad_rows: list[tuple[int, str]] = []
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL
        )
    except pd.errors.ParserError:
        # A row with more cells than the header (a comma inside an unquoted name): read row by
        # row, keep every other row, and mark that one (its household becomes invalid).
        frame, bad_rows = _rows_apart(path, text, sep)
    except pd.errors.EmptyDataError as exc:
        raise _csv_unreadable(path, exc) from None
    header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    check_headers(header, name or path.name)
    frame.columns = [str(c) for c in frame.columns]
    return SourceTable(frame, name or path.name, "", 2, bad_rows=bad_rows)


def _rows_apart(path: Path, text: str, sep: str) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """The rows of a CSV one by one: a row with more cells than the header keeps only its id
    cell (the household is then invalid) and is listed by its position."""
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    except csv.Error as exc:
        raise _csv_unreadable(path, exc) from None
    header, body = rows[0], [r for r in rows[1:]]
    ids = {match_key(s.name) for s in (*HOUSEHOLD_SPECS[:1], *MEMBER_SPECS[:2])} | {
        match_key(s.vi) for s in (*HOUSEHOLD_SPECS[:1], *MEMBER_SPECS[:2])}  # fmt: skip
    keep = [i for i, h in enumerate(header) if match_key(h) in ids]
    width = len(header)
    out, bad = [], []
    for i, row in enumerate(body):
        if len(row) > width:
            bad.append((i, sep.join(row)[:120]))
            row = [row[j] if j in keep else "" for j in range(width)]
        out.append(row + [""] * (width - len(row)))
    while out and not any(v.strip() for v in out[-1]):
        out.pop()
    return pd.DataFrame(out, columns=header, dtype=object), bad


def parquet_file(path: Path, dictionary: list[str] | None = None) -> Any:
    """A Parquet file opened for reading, its columns checked: one value per cell, no lists or
    structures, at most MAX_COLUMNS. ``dictionary``: columns to read as dictionaries."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path, read_dictionary=dictionary)
        schema = file.schema_arrow
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise SurveyReadError(
            path, f"không đọc được tệp Parquet ({exc}).", f"cannot read the Parquet file ({exc})."
        ) from None
    if len(schema.names) > MAX_COLUMNS:
        raise SurveyReadError(path, f"có {len(schema.names):,} cột, nhiều hơn {MAX_COLUMNS:,}.",
                              f"it has {len(schema.names):,} columns, more than {MAX_COLUMNS:,}.")  # fmt: skip
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    if nested:
        listed = ", ".join(nested)
        raise SurveyReadError(path, f"các cột {listed} chứa danh sách hoặc cấu trúc; mỗi ô chỉ một "
                              "giá trị (danh sách mã viết cách nhau bằng ';').",
                              f"the columns {listed} hold lists or structures; each cell holds "
                              "one value (a list of codes is written separated by ';').")  # fmt: skip
    return file


def read_parquet(path: Path, name: str | None = None, members: bool = False) -> SourceTable:
    """A Parquet table, its text kept in Arrow (pandas' "str"). A members table, which is only
    parsed and never written back, has its text columns read as dictionaries (categoricals):
    a few bytes a cell instead of a string each."""
    import pyarrow as pa

    file = parquet_file(path)
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    if members:
        strings = [f.name for f in file.schema_arrow
                   if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]  # fmt: skip
        file = parquet_file(path, strings)
    try:
        frame = file.read().to_pandas(types_mapper={pa.string(): text,
                                                    pa.large_string(): text}.get)  # fmt: skip
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise SurveyReadError(
            path, f"không đọc được tệp Parquet ({exc}).", f"cannot read the Parquet file ({exc})."
        ) from None
    del file
    pa.default_memory_pool().release_unused()  # the file's buffers back to the system
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    check_headers(list(frame.columns), name or path.name)
    return SourceTable(frame, name or path.name, "", 1)


def sheet_frame(path: Path, ws: object, sheet: str, specs: tuple[ColumnSpec, ...],
                name: str) -> SourceTable:  # fmt: skip
    """One sheet as a table: title rows and merged header cells handled by ``layout``, the
    header found by the column names of ``specs``."""
    ws.reset_dimensions()  # type: ignore[attr-defined]  # read every row, whatever the stored size
    rows = [list(r) for r in ws.iter_rows(values_only=True)]  # type: ignore[attr-defined]
    if not rows:
        raise SurveyReadError(path, f"trang '{sheet}' trống.", f"sheet '{sheet}' is empty.")
    known = {match_key(s.name) for s in specs} | {match_key(s.vi) for s in specs}
    sheet_layout = layout(rows, merged_ranges(ws), known)
    check_headers(sheet_layout.header, f"{name} [{sheet}]")
    frame = pd.DataFrame(sheet_layout.body, columns=sheet_layout.header, dtype=object)
    return SourceTable(frame, name, sheet, sheet_layout.first_row, sheet_layout.notes)


def check_headers(header: list[str], where: str) -> None:
    """Refuse a table with two columns of the same name (after the match key), naming them."""
    seen: dict[str, list[str]] = {}
    for h in header:
        if str(h).strip():
            seen.setdefault(match_key(h), []).append(str(h))
    twice = [names for names in seen.values() if len(names) > 1]
    if twice:
        listed = ", ".join("'" + "', '".join(names) + "'" for names in twice)
        text = messages()["duplicate_column"]
        raise SurveyReadError(where, text["vi"].format(value=listed),
                              text["en"].format(value=listed))  # fmt: skip


def _damaged(path: Path, exc: BaseException) -> SurveyReadError:
    return SurveyReadError(path, f"không mở được sổ Excel, tệp bị hỏng ({exc}). Lưu lại bằng định "
                           "dạng .xlsx.", f"cannot open the workbook: it is damaged ({exc}). Save "
                           "it again as .xlsx.")  # fmt: skip


def read_workbook(path: Path) -> RawBatch:
    """The two sheets of a workbook; a damaged or oversized workbook is a designed error."""
    return read_guarded(path, _read_workbook)


def read_guarded(path: Path, read: Callable[[Path], T]) -> T:
    """``read(path)`` of a workbook, refused with a designed error when a sheet is oversized
    once decompressed or the file is damaged."""
    import zlib
    from xml.etree.ElementTree import ParseError

    try:
        with zipfile.ZipFile(path) as archive:
            big = [i for i in archive.infolist() if i.file_size > MAX_SHEET_BYTES]
    except (zipfile.BadZipFile, OSError) as exc:
        raise _damaged(path, exc) from None
    if big:
        raise SurveyReadError(path, f"một trang khi giải nén lớn hơn {MAX_SHEET_BYTES:,} byte; "
                              "hãy ghi ra .csv hoặc .parquet.", f"a sheet is larger than "
                              f"{MAX_SHEET_BYTES:,} bytes once decompressed; write .csv or "
                              ".parquet instead.")  # fmt: skip
    try:
        return read(path)
    except (zipfile.BadZipFile, zlib.error, ParseError, EOFError, KeyError, ValueError,
            TypeError, IndexError) as exc:  # fmt: skip
        raise _damaged(path, exc) from None


def _read_workbook(path: Path) -> RawBatch:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    names = {match_key(n): n for n in wb.sheetnames}
    found: dict[str, str] = {}
    for role, candidates in (("households", HOUSEHOLD_SHEETS), ("members", MEMBER_SHEETS)):
        for cand in candidates:
            if match_key(cand) in names:
                found[role] = names[match_key(cand)]
                break
    missing = [r for r in ("households", "members") if r not in found]
    if missing:
        raise SurveyReadError(
            path,
            "sổ Excel phải có hai trang 'households' và 'members' (hoặc 'ho' và 'thanh_vien'); "
            f"các trang hiện có: {', '.join(wb.sheetnames)}.",
            "the workbook needs sheets 'households' and 'members' (or 'ho' and 'thanh_vien'); "
            f"it has: {', '.join(wb.sheetnames)}.",
        )
    try:
        hh = sheet_frame(path, wb[found["households"]], found["households"], HOUSEHOLD_SPECS,
                         path.name)  # fmt: skip
        mem = sheet_frame(path, wb[found["members"]], found["members"], MEMBER_SPECS, path.name)
    finally:
        wb.close()
    return RawBatch(hh, mem)


def is_members_table(table: SourceTable) -> bool:
    return _has_members_marker(list(table.frame.columns))


def _has_members_marker(columns: list[Any]) -> bool:
    return any(match_key(c) in MEMBER_MARKERS for c in columns)


def _members_second(first: tuple[list[Any], int], second: tuple[list[Any], int],
                    where: Path) -> bool:  # fmt: skip
    """Whether two tables, given as (column names, rows), are in the order households, members;
    False when they are the other way round. Raises when neither can be told the members."""
    (a_cols, a_rows), (b_cols, b_rows) = first, second
    a_mem, b_mem = _has_members_marker(a_cols), _has_members_marker(b_cols)
    if a_mem and b_mem:
        # Both have a number column (a households list often has an STT counter): the
        # members table is the one with the canonical member_no, else the longer one.
        canonical = [any(match_key(c) == "member_no" for c in cols) for cols in (a_cols, b_cols)]
        if canonical[0] != canonical[1]:
            return not canonical[0]
        return a_rows <= b_rows
    if a_mem:
        return False
    if not b_mem:
        raise SurveyReadError(
            where,
            "không nhận ra bảng thành viên: đúng một trong hai tệp phải có cột 'member_no' "
            "(hoặc 'stt').",
            "cannot tell the members table: exactly one of the two files must have a "
            "'member_no' (or 'stt') column.",
        )
    return True


def read_survey(paths: list[Path]) -> RawBatch:
    """Read a batch from one workbook or from a households/members pair (CSV or Parquet)."""
    for p in paths:
        if not p.exists():
            raise SurveyReadError(p, "không tìm thấy tệp.", "file not found.")
        if p.is_dir():
            raise SurveyReadError(p, "đây là một thư mục, không phải tệp.", "it is a folder, not a "
                                  "file.")  # fmt: skip
        if not p.is_file():
            raise SurveyReadError(p, "không phải một tệp thường (thiết bị, ống dẫn).",
                                  "it is not a regular file (a device or a pipe).")  # fmt: skip
        if p.stat().st_size > MAX_INPUT_BYTES:
            raise SurveyReadError(p, f"tệp lớn hơn {MAX_INPUT_BYTES:,} byte; hãy chia nhỏ (Parquet "
                                  "với --chunk-size).", f"the file is larger than "
                                  f"{MAX_INPUT_BYTES:,} bytes; split it (Parquet with "
                                  "--chunk-size).")  # fmt: skip
    suffixes = {p.suffix.lower() for p in paths}
    if len(paths) == 1 and suffixes <= {".xlsx", ".xlsm"}:
        return read_workbook(paths[0])
    if len(paths) == 2 and (suffixes <= {".csv", ".txt"} or suffixes <= {".parquet", ".pq"}):
        # Two files of the same name in different folders are told apart by their paths.
        same = paths[0].name == paths[1].name
        names = [str(p) if same else p.name for p in paths]
        if suffixes <= {".parquet", ".pq"}:  # the roles from the schemas, before any data
            files = [parquet_file(p) for p in paths]
            shapes = [(list(f.schema_arrow.names), f.metadata.num_rows) for f in files]
            order = [0, 1] if _members_second(shapes[0], shapes[1], paths[1]) else [1, 0]
            hh, mem = (read_parquet(paths[i], names[i], members=k == 1)
                       for k, i in enumerate(order))  # fmt: skip
            return RawBatch(hh, mem)
        a, b = (read_csv(p, n) for p, n in zip(paths, names, strict=True))
        shapes = [(list(t.frame.columns), len(t.frame)) for t in (a, b)]
        return RawBatch(a, b) if _members_second(shapes[0], shapes[1], paths[1]) else RawBatch(b, a)
    raise SurveyReadError(
        " ".join(str(p) for p in paths),
        "đầu vào phải là một sổ Excel (.xlsx) hoặc hai tệp hộ và thành viên cùng loại "
        "(.csv hoặc .parquet).",
        "input must be one workbook (.xlsx) or a households file and a members file of the "
        "same kind (.csv or .parquet).",
    )
