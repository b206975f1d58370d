"""Vectorised validation of a raw batch into typed columns, with every input error recorded.

Each column is parsed per distinct value (``pd.factorize``), so the Python normaliser runs once
per distinct spelling, not once per row; numeric columns take a vectorised fast path first. A bad
value makes its row ``invalid`` (a bad member row makes its household invalid) and is written to
the errors table with file, sheet, row, column, value and a message in Vietnamese and English. No
row is ever dropped: members whose household is absent are reported as errors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.errors import SurveyReadError, close_matches
from household_models.batch import BoolArray, Column, ParsedBatch, encode, mask, personal_values
from household_models.cells import ASCII_SPACE, parse_column
from household_models.columns import ColumnSpec
from household_models.readers import RawBatch, SourceTable
from household_models.schema import HOUSEHOLD_SPECS, MEMBER_SPECS
from household_models.sheets import Note
from household_models.vocab import (
    format_message,
    match_key,
    messages,
)

ERROR_COLUMNS = [
    "file", "sheet", "row", "column", "value", "household_id", "member_no", "code",
    "message_vi", "message_en",
]  # fmt: skip

class _Errors:
    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        table: SourceTable,
        positions: npt.NDArray[np.int64],
        column: str,
        values: list[str],
        codes: list[str],
        messages: list[tuple[str, str]],
        ids: npt.NDArray[np.object_],
        member_nos: npt.NDArray[np.object_] | None,
    ) -> None:
        if len(positions) == 0:
            return
        self.parts.append(
            pd.DataFrame(
                {
                    "file": table.file,
                    "sheet": table.sheet,
                    "row": pd.array(positions + table.first_row, dtype="Int64"),
                    "column": column,
                    "value": values,
                    "household_id": ["" if v is None else str(v) for v in ids[positions]],
                    "member_no": (
                        ["" if v is None else str(v) for v in member_nos[positions]]
                        if member_nos is not None
                        else ""
                    ),
                    "code": codes,
                    "message_vi": [m[0] for m in messages],
                    "message_en": [m[1] for m in messages],
                }
            )
        )

    def add_notes(self, table: SourceTable) -> None:
        """What the reader did to the sheet (title rows skipped, merged cells filled)."""
        if not table.notes:
            return
        self.parts.append(pd.DataFrame({
            "file": table.file, "sheet": table.sheet,
            "row": pd.array([n.row for n in table.notes], dtype="Int64"),
            "column": [n.column for n in table.notes], "value": [n.value for n in table.notes],
            "household_id": "", "member_no": "", "code": [n.code for n in table.notes],
            "message_vi": [n.message_vi for n in table.notes],
            "message_en": [n.message_en for n in table.notes],
        }))  # fmt: skip

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ERROR_COLUMNS})
        out = pd.concat(self.parts, ignore_index=True)[ERROR_COLUMNS]
        return out.sort_values(["file", "sheet", "row"], kind="stable", na_position="first",
                               ignore_index=True)  # fmt: skip


def map_headers(table: SourceTable, specs: tuple[ColumnSpec, ...]) -> dict[str, str]:
    """Canonical field name -> header as written in the file."""
    lookup: dict[str, str] = {}
    for spec in specs:
        lookup[match_key(spec.name)] = spec.name
        lookup[match_key(spec.vi)] = spec.name
    found: dict[str, str] = {}
    for header in table.frame.columns:
        name = lookup.get(match_key(header))
        if name is None:
            continue
        if name in found:
            where = f"{table.file}" + (f" [{table.sheet}]" if table.sheet else "")
            raise SurveyReadError(
                where,
                f"hai cột '{found[name]}' và '{header}' cùng là {name}; giữ một cột.",
                f"columns '{found[name]}' and '{header}' are both {name}; keep one.",
            )
        found[name] = header
    return found


def _as_written(series: pd.Series) -> npt.NDArray[np.object_]:
    """The cells as objects, None where empty (whatever the storage writes for a missing
    cell: None, NaN or NA)."""
    values = np.array(series.to_numpy(dtype=object), dtype=object)  # a copy we may write
    values[pd.isna(values)] = None
    return values


def _default_column(spec: ColumnSpec, n: int) -> Column:
    arr, miss = encode(spec, [spec.default])
    return Column(spec.kind, np.repeat(arr, n), np.repeat(miss, n), spec.codes)


NOTE_CODES = ("title_rows_skipped", "header_rows_combined", "merged_cells_filled", "unknown_column",
              "input_column_renamed")


def _closest_header(table: SourceTable, spec: ColumnSpec) -> tuple[str, str]:
    """A hint naming the header of the file closest to a column that is absent."""
    taken = {match_key(s) for s in (spec.name, spec.vi)}
    headers = [str(h) for h in table.frame.columns if match_key(h) not in taken]
    by_key = {match_key(h): h for h in headers}
    close = close_matches(match_key(spec.vi), list(by_key), n=1) or close_matches(
        match_key(spec.name), list(by_key), n=1)  # fmt: skip
    if not close:
        return "", ""
    found = by_key[close[0]]
    return f" Có phải cột '{found}'?", f" Did you mean the column '{found}'?"


def _unknown_columns(table: SourceTable, specs: tuple[ColumnSpec, ...],
                     headers: dict[str, str]) -> None:  # fmt: skip
    """A note for each column the form does not know (kept, passed through, not read)."""
    mapped = set(headers.values())
    names = {match_key(s.vi): s.vi for s in specs} | {match_key(s.name): s.name for s in specs}
    for header in table.frame.columns:
        if header in mapped or not str(header).strip():
            continue
        close = close_matches(match_key(header), list(names), n=1)
        vi_hint = f" Có phải cột '{names[close[0]]}'?" if close else ""
        en_hint = f" Did you mean '{names[close[0]]}'?" if close else ""
        text = messages()["unknown_column"]
        table.notes.append(Note(None, str(header), str(header), "unknown_column",
                                text["vi"].format(value=header, detail=vi_hint),
                                text["en"].format(value=header, detail=en_hint)))  # fmt: skip


def _parse_table(
    table: SourceTable, specs: tuple[ColumnSpec, ...], errors: _Errors, id_column: str
) -> tuple[dict[str, Column], BoolArray, dict[str, str], npt.NDArray[np.object_],
           npt.NDArray[np.object_] | None]:  # fmt: skip
    """The typed columns, invalid rows, headers and ids of a table, and its member numbers as
    written (None without a member_no column)."""
    headers = map_headers(table, specs)
    _unknown_columns(table, specs, headers)
    errors.add_notes(table)
    n = len(table.frame)
    if id_column not in headers:
        spec = next(s for s in specs if s.name == id_column)
        where = table.file + (f" [{table.sheet}]" if table.sheet else "")
        hint_vi, hint_en = _closest_header(table, spec)
        raise SurveyReadError(
            where,
            f"thiếu cột bắt buộc {spec.vi} ({spec.name}); thêm cột này vào dòng tiêu đề.{hint_vi}",
            f"the required column {spec.name} ({spec.vi}) is absent; add it to the header row."
            f"{hint_en}",
        )
    columns: dict[str, Column] = {}
    invalid = np.zeros(n, dtype=bool)
    parsed: dict[str, tuple[Any, ...]] = {}
    for spec in specs:
        if spec.name in headers:
            parsed[spec.name] = parse_column(spec, table.frame[headers[spec.name]])
            columns[spec.name] = parsed[spec.name][0]
        else:
            columns[spec.name] = _default_column(spec, n)
    ids = columns[id_column].values
    member_nos = (
        _as_written(table.frame[headers["member_no"]]) if "member_no" in headers else None
    )
    if table.bad_rows:
        bad = np.array([p for p, _ in table.bad_rows], dtype=np.int64)
        texts = [t for _, t in table.bad_rows]
        errors.add(table, bad, "", texts, ["bad_row"] * len(texts),
                   [format_message("bad_row", None, t) for t in texts], ids, member_nos)  # fmt: skip
        invalid[bad] = True
    for spec in specs:
        if spec.name in parsed:
            _, pos, vals, codes, msgs = parsed[spec.name]
            errors.add(table, pos, headers[spec.name], vals, codes, msgs, ids, member_nos)
            invalid[pos] = True
        elif spec.required not in ("no", "") and spec.name != "age":
            vi, en = format_message("missing_column", spec, None)
            hint_vi, hint_en = _closest_header(table, spec)
            vi, en = vi + hint_vi, en + hint_en
            errors.add(
                table, np.zeros(1, np.int64), spec.name, [""], ["missing_column"], [(vi, en)],
                np.array([""], dtype=object), None,
            )  # fmt: skip
            errors.parts[-1]["row"] = pd.array([pd.NA], dtype="Int64")
    return columns, invalid, headers, ids, member_nos


def _id_errors(
    table: SourceTable,
    spec: ColumnSpec,
    header: str,
    mask: BoolArray,
    code: str,
    ids: npt.NDArray[np.object_],
    errors: _Errors,
    detail: npt.NDArray[np.object_] | None = None,
    member_nos: npt.NDArray[np.object_] | None = None,
) -> None:
    pos = np.flatnonzero(mask).astype(np.int64)
    msgs = [
        format_message(code, spec, ids[p], "" if detail is None else str(detail[p])) for p in pos
    ]
    vals = ["" if ids[p] is None else str(ids[p]) for p in pos]
    errors.add(table, pos, header, vals, [code] * len(pos), msgs, ids, member_nos)


def _loose_id(value: Any) -> str:
    """An id with leading zeros and a trailing '.0' removed (for the mismatch hint only)."""
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text.lstrip("0") or text if text.isdigit() else text


def loose_ids(values: list[str]) -> list[str]:
    """``_loose_id`` of each value: in Arrow for ASCII text (where Python's strip and isdigit
    are plain character classes), in Python for the rest."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values, type=pa.large_string())
    text = pc.replace_substring_regex(arr, f"^[{ASCII_SPACE}]+|[{ASCII_SPACE}]+$", "")
    text = pc.replace_substring_regex(text, r"^([0-9]+)\.0$", r"\1")
    text = pc.replace_substring_regex(text, r"^0*([1-9][0-9]*)$", r"\1")  # "000" stays
    out: list[str] = text.to_pylist()
    ascii_ = np.asarray(pc.string_is_ascii(arr).to_numpy(zero_copy_only=False), dtype=bool)
    for i in np.flatnonzero(~ascii_).tolist():
        out[i] = _loose_id(values[i])
    return out


def parse_batch(raw: RawBatch, duplicate_ids: set[str] | None = None) -> ParsedBatch:
    """Validate a raw batch. ``duplicate_ids``: household ids known to be duplicated elsewhere
    (another chunk of the same batch), treated as duplicates here too."""
    errors = _Errors()
    hh, hh_invalid, hh_headers, hh_ids, _ = _parse_table(
        raw.households, HOUSEHOLD_SPECS, errors, "household_id"
    )
    mem, mem_invalid, mem_headers, mem_ids, mem_nos = _parse_table(
        raw.members, MEMBER_SPECS, errors, "household_id"
    )
    hh_id_spec = HOUSEHOLD_SPECS[0]
    no_id = hh["household_id"].missing
    _id_errors(raw.households, hh_id_spec, hh_headers["household_id"], no_id & ~hh_invalid,
               "missing_id", hh_ids, errors)  # fmt: skip
    id_series = pd.Series(hh_ids, dtype=object)
    dup = id_series.duplicated(keep=False).to_numpy() & ~no_id
    if duplicate_ids:
        dup |= id_series.isin(duplicate_ids).to_numpy() & ~no_id
    _id_errors(raw.households, hh_id_spec, hh_headers["household_id"], dup, "duplicate_household",
               hh_ids, errors)  # fmt: skip
    hh_invalid |= no_id | dup

    first = ~id_series.duplicated(keep="first").to_numpy() & ~no_id
    index = pd.Index(id_series[first])
    positions = np.flatnonzero(first)
    found = index.get_indexer(pd.Series(mem_ids, dtype=object))
    if len(positions):
        mem_hh = np.where(found >= 0, positions[np.maximum(found, 0)], -1).astype(np.int64)
    else:  # no household has an id: every member is an orphan
        mem_hh = np.full(len(mem_ids), -1, dtype=np.int64)

    mem_nos_raw = mem_nos if mem_nos is not None else np.full(len(mem_hh), None, dtype=object)
    mem_id_spec = MEMBER_SPECS[0]
    mem_no_id = mem["household_id"].missing
    _id_errors(raw.members, mem_id_spec, mem_headers["household_id"], mem_no_id & ~mem_invalid,
               "missing_id", mem_ids, errors, member_nos=mem_nos_raw)  # fmt: skip
    orphan = (mem_hh < 0) & ~mem_no_id
    # An id that matches a household once leading zeros and number formatting are ignored is
    # reported as such (ids are still compared as written).
    near = np.zeros(len(mem_ids), dtype=bool)
    detail = np.full(len(mem_ids), "", dtype=object)
    if orphan.any():  # only then, and the households' loose ids computed in Arrow
        wanted = {i: _loose_id(mem_ids[i]) for i in np.flatnonzero(orphan).tolist()}
        known = id_series[first].tolist()
        needed = set(wanted.values())
        loose = {k: v for k, v in zip(loose_ids(known), known, strict=True) if k in needed}
        for i, form in wanted.items():
            match = loose.get(form)
            if match is not None:
                near[i], detail[i] = True, match
    _id_errors(raw.members, mem_id_spec, mem_headers["household_id"], near, "id_format_mismatch",
               mem_ids, errors, detail=detail, member_nos=mem_nos_raw)  # fmt: skip
    _id_errors(raw.members, mem_id_spec, mem_headers["household_id"], orphan & ~near,
               "orphan_member", mem_ids, errors, member_nos=mem_nos_raw)  # fmt: skip
    no_spec = MEMBER_SPECS[1]
    no_missing = mem["member_no"].missing & ~mem_invalid & (mem_hh >= 0)
    if "member_no" in mem_headers:
        _id_errors(raw.members, no_spec, mem_headers["member_no"], no_missing, "missing_id",
                   mem_ids, errors, member_nos=mem_nos_raw)  # fmt: skip
    mem_invalid |= no_missing
    key = pd.DataFrame({"h": mem_hh, "n": mem["member_no"].values})
    dup_mem = key.duplicated(keep=False).to_numpy() & (mem_hh >= 0) & ~mem["member_no"].missing
    _id_errors(raw.members, mem_id_spec, mem_headers.get("member_no", "member_no"), dup_mem,
               "duplicate_member", mem_ids, errors, detail=mem_nos_raw,
               member_nos=mem_nos_raw)  # fmt: skip
    mem_invalid |= dup_mem

    linked = mem_hh >= 0
    n_hh = len(hh_invalid)
    counts = np.bincount(mem_hh[linked], minlength=n_hh)
    no_members = (counts == 0) & ~hh_invalid
    _id_errors(raw.households, hh_id_spec, hh_headers["household_id"], no_members, "no_members",
               hh_ids, errors)  # fmt: skip
    hh_invalid |= no_members
    bad_members = linked & mem_invalid
    hh_invalid[mem_hh[bad_members]] = True

    error_frame = errors.frame()
    personal = personal_values([cols[s.name] for specs, cols in ((HOUSEHOLD_SPECS, hh),
                                                                 (MEMBER_SPECS, mem))
                                for s in specs if s.personal])  # fmt: skip
    if personal and len(error_frame):  # names never in error messages, whatever their column
        for column in ("value", "message_vi", "message_en"):
            error_frame[column] = [mask(str(v), personal) for v in error_frame[column]]
    household_error = np.full(n_hh, "", dtype=object)
    # Each invalid household carries its own messages (members' ones included).
    if len(error_frame):
        rows = error_frame["row"]
        is_member = error_frame["member_no"].astype(str) != ""
        noted = error_frame["code"].isin(NOTE_CODES).to_numpy()  # notes name no household
        keyed = error_frame.assign(pos=-1)
        hh_part = (
            ~noted
            & ~is_member
            & (error_frame["file"] == raw.households.file)
            & (error_frame["sheet"] == raw.households.sheet)
            & rows.notna()
        )
        keyed.loc[hh_part, "pos"] = rows[hh_part].astype(np.int64) - raw.households.first_row
        mem_part = (
            ~noted
            & (error_frame["file"] == raw.members.file)
            & (error_frame["sheet"] == raw.members.sheet)
            & rows.notna()
        )
        mem_pos = rows[mem_part].astype(np.int64).to_numpy() - raw.members.first_row
        keyed.loc[mem_part, "pos"] = mem_hh[mem_pos]
        keyed = keyed[keyed["pos"] >= 0]
        joined = keyed.groupby("pos", sort=False)["message_vi"].agg(" | ".join)
        household_error[joined.index.to_numpy(dtype=np.int64)] = joined.to_numpy()

    members = mem if linked.all() else {
        name: Column(c.kind, c.values[linked], c.missing[linked], c.codes)
        for name, c in mem.items()}  # fmt: skip
    return ParsedBatch(
        households=hh,
        members=members,
        member_household=mem_hh[linked],
        household_invalid=hh_invalid,
        household_error=household_error,
        errors=error_frame,
        raw_households=raw.households.frame,
        household_rows=np.arange(n_hh, dtype=np.int64) + raw.households.first_row,
        column_headers=hh_headers,
        personal=personal,
        source=(raw.households.file, raw.households.sheet),
    )
